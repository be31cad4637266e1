//go:build !windows

package installer

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Account is the user and group a service's own files may belong to
// besides root.
type Account struct {
	UID, GID int
}

// ProcessAccount is the account this process runs as (the daemon checks
// its files against itself).
func ProcessAccount() Account { return Account{UID: os.Geteuid(), GID: os.Getegid()} }

// ServiceAccount is the installed service account name (DefaultUser) with
// its group; when it does not exist here, this process's account.
func ServiceAccount(name string) Account {
	u, err := user.Lookup(name)
	if err != nil {
		return ProcessAccount()
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return ProcessAccount()
	}
	return Account{UID: uid, GID: gid}
}

// CheckSecretFile checks a key file (or a configuration holding an inline
// key) for the account this process runs as: see CheckSecretFileFor.
func CheckSecretFile(path string) error { return CheckSecretFileFor(path, ProcessAccount()) }

// CheckSecretFileFor returns an *InsecureFileError when the file at path
// can be read or written by its group or by others, and an
// *UntrustedPathError when it is owned by someone other than root or acct,
// or lies in a folder (at any depth) others could write. The one group
// permission allowed is read for acct's group on a root-owned file
// (root:tillbridge 0640), so the service can read but not change it.
func CheckSecretFileFor(path string, acct Account) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("check secret file: %w", err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("check secret file: %w", err)
	}
	uid, gid := owner(fi)
	perm := fi.Mode().Perm()
	groupRead := acct.UID != 0 && uid == 0 && gid == acct.GID && perm&0o037 == 0
	if perm&0o077 != 0 && !groupRead {
		return &InsecureFileError{Path: path, Mode: fi.Mode(), Fix: unixFix(path)}
	}
	if uid != 0 && uid != acct.UID {
		return &UntrustedPathError{Path: path, For: path,
			Problem: fmt.Sprintf("holds a secret but is owned by %s, not by root or the service account (%s), so that user could read or change it",
				userName(uid), userName(acct.UID)),
			Fix: unixFix(path)}
	}
	return checkFolders(real, "key file "+path, acct.UID)
}

// CheckTrustedBinary returns an *UntrustedPathError when the binary at
// path, or any folder above it, is not owned by root or is writable by its
// group or by others: the service runs that binary, as the service account
// or as root.
func CheckTrustedBinary(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("check binary: %w", err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("check binary: %w", err)
	}
	what := "binary " + path
	if p := pathProblem(fi, 0, false); p != "" {
		return &UntrustedPathError{Path: path, For: what, Problem: p,
			Fix: fmt.Sprintf("chown root:root %s; chmod 0755 %s", shellJoin([]string{real}), shellJoin([]string{real}))}
	}
	return checkFolders(real, what, 0)
}

// CheckTrustedFolders returns an *UntrustedPathError when a folder above
// dir (not dir itself, which the installer creates and owns) is not owned
// by root or is writable by its group or by others. Folders that do not
// exist yet are skipped: the installer creates them, root-owned.
func CheckTrustedFolders(dir, what string) error {
	dir = filepath.Clean(dir)
	for {
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		if _, err := os.Stat(parent); err == nil {
			return checkFolders(dir, what, 0)
		}
		dir = parent
	}
}

// checkInstallTrust checks what a Linux install hands to the service: the
// binary and every folder above it, and the folders above the
// configuration, data, log and runtime folders (those the installer
// creates and owns itself are not checked).
func checkInstallTrust(p Plan) error {
	if err := CheckTrustedBinary(p.Executable); err != nil {
		return err
	}
	dirs := []struct{ dir, what string }{
		{filepath.Dir(p.Paths.Config), "configuration folder " + filepath.Dir(p.Paths.Config)},
		{p.Paths.Data, "data folder " + p.Paths.Data},
		{p.Paths.Logs, "log folder " + p.Paths.Logs},
	}
	if p.Paths.Run != "" {
		dirs = append(dirs, struct{ dir, what string }{p.Paths.Run, "runtime folder " + p.Paths.Run})
	}
	for _, d := range dirs {
		if err := CheckTrustedFolders(d.dir, d.what); err != nil {
			return err
		}
	}
	return nil
}

// checkFolders checks every folder above file up to /: owned by root or
// okUID, not writable by group or others. A folder above the nearest one
// may be world-writable when it is root-owned with the sticky bit (/tmp):
// there nobody but its owner may rename what is inside.
func checkFolders(file, what string, okUID int) error {
	dir := filepath.Dir(file)
	for nearest := true; ; nearest = false {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("%s: folder %s: %w", what, dir, err)
		}
		if p := pathProblem(fi, okUID, !nearest); p != "" {
			return &UntrustedPathError{Path: dir, For: what, Problem: p, Fix: folderFix(dir, fi)}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// pathProblem describes what is wrong with a file or folder's owner and
// mode, or returns "".
func pathProblem(fi fs.FileInfo, okUID int, stickyOK bool) string {
	uid, _ := owner(fi)
	perm := fi.Mode().Perm()
	if uid != 0 && uid != okUID {
		who := "root"
		if okUID != 0 {
			who += " or " + userName(okUID)
		}
		return fmt.Sprintf("is owned by %s, not by %s, so that user could replace what it holds", userName(uid), who)
	}
	if perm&0o022 != 0 && !(stickyOK && uid == 0 && fi.Mode()&fs.ModeSticky != 0) {
		return fmt.Sprintf("is writable by its group or by everyone (mode %04o), so others could replace what it holds", perm)
	}
	return ""
}

// folderFix is the command that makes dir trustworthy.
func folderFix(dir string, fi fs.FileInfo) string {
	q := shellJoin([]string{dir})
	if uid, _ := owner(fi); uid != 0 {
		return fmt.Sprintf("chown root %s; chmod go-w %s (or move the file to a folder only root can change)", q, q)
	}
	return fmt.Sprintf("chmod go-w %s (or move the file to a folder only root can change)", q)
}

// owner returns a file's owner and group ids.
func owner(fi fs.FileInfo) (uid, gid int) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, -1
	}
	return int(st.Uid), int(st.Gid)
}

// userName is "uid N (name)", or "uid N" for an unknown user.
func userName(uid int) string {
	s := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		s += " (" + u.Username + ")"
	}
	return s
}

// CheckSocketFolder returns an *UntrustedPathError when the folder a unix
// socket is created in (or, while it does not exist yet, the nearest
// folder above it) is writable by everyone: anyone could then put their
// own socket there first and answer in tillbridge's place. Unlike for
// files, a sticky bit does not help.
func CheckSocketFolder(socket, what string) error {
	dir := filepath.Dir(filepath.Clean(socket))
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if fi.Mode().Perm()&0o002 != 0 {
				return &UntrustedPathError{Path: dir, For: what,
					Problem: fmt.Sprintf("is writable by everyone (mode %04o), so any local user could create a socket there first and answer in tillbridge's place", fi.Mode().Perm()),
					Fix:     "put the socket in a folder of its own, e.g. /run/tillbridge"}
			}
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}
