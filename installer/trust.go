package installer

import (
	"errors"
	"fmt"
)

// ErrUntrustedPath is wrapped by every *UntrustedPathError.
var ErrUntrustedPath = errors.New("path others could change")

// UntrustedPathError: a file, or a folder on its path, that someone other
// than root (and, for the service's own files, the service account) could
// change or replace: owned by another user, or writable by its group or by
// everyone. Like sshd's StrictModes, every folder up to / is checked,
// because whoever may rename a folder may swap the file below it.
type UntrustedPathError struct {
	// Path is the file or folder at fault.
	Path string
	// For names what it protects ("key file /etc/tillbridge/md5.key",
	// "binary /usr/local/bin/tillbridge"); equal to Path when the file
	// itself is at fault.
	For string
	// Problem says what is wrong ("is owned by uid 65534 (nobody), not by
	// root or tillbridge").
	Problem string
	// Fix is the command that repairs it.
	Fix string
}

// Error names the file or folder, what it protects, the problem and the
// fix.
func (e *UntrustedPathError) Error() string {
	where := e.Path
	if e.For != "" && e.For != e.Path {
		where = fmt.Sprintf("%s: folder %s", e.For, e.Path)
	}
	return fmt.Sprintf("%s %s; tillbridge will not trust it; fix: %s", where, e.Problem, e.Fix)
}

// Unwrap returns ErrUntrustedPath.
func (e *UntrustedPathError) Unwrap() error { return ErrUntrustedPath }
