//go:build !windows

package installer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/kardianos/service"
)

func (osHost) preflight(p Plan) error {
	if p.OS != runtime.GOOS {
		return fmt.Errorf("%w: this is %s; a %s plan can only be shown with --dry-run", ErrInvalidPlan, runtime.GOOS, p.OS)
	}
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	if sys := service.ChosenSystem(); sys == nil || sys.String() != "linux-systemd" {
		return ErrNoSystemd
	}
	return nil
}

func (osHost) checkTrusted(p Plan) error { return checkInstallTrust(p) }

func (osHost) userExists(name string) (bool, error) {
	_, err := user.Lookup(name)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		return false, nil
	}
	return err == nil, err
}

func (osHost) groupExists(name string) (bool, error) {
	_, err := user.LookupGroup(name)
	var unknown user.UnknownGroupError
	if errors.As(err, &unknown) {
		return false, nil
	}
	return err == nil, err
}

func (osHost) chown(path, owner, group string, recursive bool) error {
	uid, gid, err := lookupIDs(owner, group)
	if err != nil {
		return err
	}
	if !recursive {
		return os.Lchown(path, uid, gid)
	}
	return filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// lookupIDs resolves a user and group name to numeric ids.
func lookupIDs(owner, group string) (int, int, error) {
	u, err := user.Lookup(owner)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: %w", owner, err)
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, 0, fmt.Errorf("group %s: %w", group, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(g.Gid)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("non-numeric ids for %s:%s", owner, group)
	}
	return uid, gid, nil
}

// errWindowsOnly is returned by the Windows-only operations elsewhere.
var errWindowsOnly = errors.New("only on Windows")

func (osHost) restrictACL(string, string) error { return errWindowsOnly }
func (osHost) setRecovery(WindowsService) error { return errWindowsOnly }
