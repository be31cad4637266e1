package installer

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrInsecureFile is wrapped by every InsecureFileError.
var ErrInsecureFile = errors.New("secret file readable by others")

// InsecureFileError: a key file (or a configuration holding a key) that
// others than the service account can read. The daemon refuses to start
// on it; the message names the file and the fix.
type InsecureFileError struct {
	Path string
	// Mode is the file's permission bits (Linux); Who names the
	// principals that may read it (Windows).
	Mode fs.FileMode
	Who  string
	// Fix is the command that makes the file private.
	Fix string
}

// Error names the file, who may read it and the fix.
func (e *InsecureFileError) Error() string {
	who := fmt.Sprintf("group or others (mode %04o)", e.Mode.Perm())
	if e.Who != "" {
		who = e.Who
	}
	return fmt.Sprintf("%s holds a secret but is readable by %s; tillbridge will not use it until it is private; fix: %s",
		e.Path, who, e.Fix)
}

// Unwrap returns ErrInsecureFile.
func (e *InsecureFileError) Unwrap() error { return ErrInsecureFile }

// unixFix is the fix for a file on Linux: private to the service account.
func unixFix(path string) string {
	q := shellJoin([]string{path})
	return fmt.Sprintf("chmod 600 %s; chown %s %s", q, DefaultUser, q)
}
