package installer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"github.com/kardianos/service"
)

// host is everything the installer does to the machine. osHost does it for
// real; tests substitute a recorder, so install logic is tested without
// root, systemd or Windows.
type host interface {
	// preflight refuses early when the install cannot work here (not root
	// or administrator, no systemd).
	preflight(p Plan) error
	// checkTrusted refuses a binary, or a folder above the binary or the
	// service's folders, that someone other than root could change.
	checkTrusted(p Plan) error
	userExists(name string) (bool, error)
	groupExists(name string) (bool, error)
	run(ctx context.Context, name string, args ...string) error
	mkdirAll(dir string, perm fs.FileMode) error
	chmod(path string, perm fs.FileMode) error
	// chown sets owner and group of path (and, recursive, of everything
	// below it, without following symbolic links).
	chown(path, user, group string, recursive bool) error
	// createExcl writes a new file; it reports false and writes nothing
	// when the file exists.
	createExcl(path string, data []byte, perm fs.FileMode) (bool, error)
	writeFile(path string, data []byte, perm fs.FileMode) error
	// removeFile removes a file; it reports false when there was none.
	removeFile(path string) (bool, error)
	// restrictACL sets a protected DACL (SDDL) on a Windows folder.
	restrictACL(dir, sddl string) error
	// setRecovery sets and verifies the Windows recovery actions.
	setRecovery(w WindowsService) error
	// service returns the service-manager handle for cfg.
	service(cfg *service.Config) (serviceControl, error)
	// status reports the state of the named service.
	status(ctx context.Context, name string) (ServiceState, error)
}

// serviceControl is the part of kardianos/service's Service the installer
// uses.
type serviceControl interface {
	Install() error
	Uninstall() error
	Start() error
	Stop() error
}

// Preflight errors: the install or control command cannot work here.
var (
	// ErrNotRoot: on Linux the service commands need root.
	ErrNotRoot = errors.New("must run as root (try: sudo tillbridge ...)")
	// ErrNoSystemd: on Linux only systemd is supported.
	ErrNoSystemd = errors.New("systemd is not running here (tillbridge installs as a systemd service only)")
	// ErrNotAdmin: on Windows the service commands need an elevated prompt.
	ErrNotAdmin = errors.New("must run from an administrator prompt (Run as administrator)")
)

// osHost acts on the real machine. Its OS-specific methods live in
// host_unix.go and host_windows.go.
type osHost struct{}

// CommandError is a failed external command (useradd, udevadm, …) with
// its output.
type CommandError struct {
	Command string
	Output  string
	Err     error
}

// Error names the command, its error and its output.
func (e *CommandError) Error() string {
	out := strings.TrimSpace(e.Output)
	if out == "" {
		return fmt.Sprintf("%s: %v", e.Command, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Command, e.Err, out)
}

// Unwrap returns the exec error.
func (e *CommandError) Unwrap() error { return e.Err }

func (osHost) run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return &CommandError{Command: strings.Join(append([]string{name}, args...), " "), Output: string(out), Err: err}
	}
	return nil
}

func (osHost) mkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }

func (osHost) chmod(path string, perm fs.FileMode) error { return os.Chmod(path, perm) }

func (osHost) createExcl(path string, data []byte, perm fs.FileMode) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	return true, f.Close()
}

func (osHost) writeFile(path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil { // WriteFile's mode is filtered by the umask
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func (osHost) removeFile(path string) (bool, error) {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (osHost) service(cfg *service.Config) (serviceControl, error) {
	s, err := service.New(nopProgram{}, cfg)
	if err != nil {
		return nil, fmt.Errorf("service manager: %w", err)
	}
	return s, nil
}

// nopProgram satisfies service.Interface for control-only handles.
type nopProgram struct{}

// Start does nothing: the handle only controls the service.
func (nopProgram) Start(service.Service) error { return nil }

// Stop does nothing.
func (nopProgram) Stop(service.Service) error { return nil }
