// Package safesocket opens the local sockets tillbridge serves on: a unix
// socket on Linux (and other non-Windows systems), a named pipe on
// Windows, both behind one API in the manner of tailscale's safesocket.
//
// Listen never displaces a live server: an existing socket is removed only
// when no one answers a dial on it (a server that died left it behind), and
// a socket or pipe someone answers on is refused with an *InUseError.
// Access is limited at creation: a unix socket gets Config.Mode and
// Config.Group; a pipe gets a security descriptor that admits SYSTEM, the
// Administrators and Config.Group only.
//
// It is a leaf package: it imports the standard library, and go-winio and
// golang.org/x/sys on Windows.
package safesocket

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
)

// Defaults of Config.
const (
	// DefaultMode is a unix socket's mode when Config.Mode is zero: the
	// owner only.
	DefaultMode = os.FileMode(0o600)
	// DefaultPipeBuffer is a named pipe's input and output buffer size when
	// Config.PipeBuffer is zero.
	DefaultPipeBuffer = 64 << 10
)

// Config says where and how to listen.
type Config struct {
	// Path is the unix socket's path, or on Windows a pipe path
	// (\\.\pipe\NAME) or a bare pipe name (see PipePath).
	Path string
	// Mode is a unix socket's permission bits (DefaultMode when zero).
	// Windows ignores it.
	Mode os.FileMode
	// Group is who besides the owner, root or SYSTEM may connect: on unix
	// a group name or numeric gid that will own the socket; on Windows a
	// group name or a SID ("S-1-...") granted read and write on the pipe.
	// Empty: no one else.
	Group string
	// DirMode, when not zero, makes Listen create the socket's folder (and
	// its parents) with this mode first. Windows ignores it.
	DirMode os.FileMode
	// PipeBuffer is a named pipe's input and output buffer size in bytes
	// (DefaultPipeBuffer when zero). Unix ignores it.
	PipeBuffer int32
}

// InUseError reports a socket or pipe a live server answers on: Listen
// refuses to take it over.
type InUseError struct {
	// Path is the socket path or pipe path.
	Path string
}

// Error says where a server already answers.
func (e *InUseError) Error() string {
	return fmt.Sprintf("a live server already answers on %s", e.Path)
}

// NotSocketError reports a unix socket path taken by something that is not
// a socket (a file, a folder): Listen leaves it alone.
type NotSocketError struct {
	// Path is the socket path.
	Path string
}

// Error says the path is taken.
func (e *NotSocketError) Error() string {
	return fmt.Sprintf("%s exists and is not a socket", e.Path)
}

// Listen opens a unix socket (a named pipe on Windows) as cfg says. Errors
// wrap *InUseError when a live server answers on cfg.Path, *NotSocketError
// when the path holds something else, or the system error.
func Listen(ctx context.Context, cfg Config) (net.Listener, error) {
	return listen(ctx, cfg)
}

// Dial connects to the unix socket (on Windows the named pipe) at path.
// IsNotListening tells whether an error means that no server is there.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	return dial(ctx, path)
}

// IsNotListening reports whether an error of Dial means that no server
// serves the path: no socket or pipe, or a stale socket file.
func IsNotListening(err error) bool {
	return isNotListening(err)
}

// PipePath turns a bare pipe name into a full pipe path (\\.\pipe\NAME);
// a path that starts with \\ is returned as it is, and so is "".
func PipePath(name string) string {
	if name == "" || strings.HasPrefix(name, `\\`) {
		return name
	}
	return `\\.\pipe\` + name
}

// pipeSDDL is a named pipe's security descriptor: full control for SYSTEM
// and the Administrators, read and write for the given SID (if any), no one
// else, and no inherited entries.
func pipeSDDL(sid string) string {
	sddl := "D:P(A;;GA;;;SY)(A;;GA;;;BA)"
	if sid != "" {
		sddl += "(A;;GRGW;;;" + sid + ")"
	}
	return sddl
}
