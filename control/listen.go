package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/tillbridge/tillbridge/safesocket"
)

// controlSocketMode: only the service account (and root) may talk to the
// control API; the CLI runs as root or as that account. On Windows the
// pipe admits SYSTEM and the Administrators only (safesocket's descriptor
// with no group): the control API can resolve payments by hand.
const controlSocketMode = 0o600

// ErrInUse reports a control socket or pipe a live daemon answers on.
var ErrInUse = errors.New("another tillbridge daemon answers on this control socket")

// Listen opens the control API's unix socket at addr, mode 0600 (its
// folder is created 0700), or on Windows its named pipe. A stale socket
// file left by a daemon that died is replaced; a live one is refused with
// ErrInUse (another daemon runs on the same data directory).
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	what := "control socket"
	if runtime.GOOS == "windows" {
		what, addr = "control pipe", pipePath(addr)
	}
	ln, err := safesocket.Listen(ctx, safesocket.Config{Path: addr, Mode: controlSocketMode, DirMode: 0o700})
	var inUse *safesocket.InUseError
	if errors.As(err, &inUse) {
		err = ErrInUse
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, addr, err)
	}
	return ln, nil
}

// pipePath turns a bare name into a pipe path.
func pipePath(name string) string {
	if name == "" {
		return DefaultPipe
	}
	return safesocket.PipePath(name)
}

// dial connects to the control socket or pipe.
func dial(ctx context.Context, addr string) (net.Conn, error) {
	if runtime.GOOS == "windows" {
		addr = pipePath(addr)
	}
	return safesocket.Dial(ctx, addr)
}

// isNoDaemon reports whether a dial error means nobody serves the address:
// no socket or pipe, or a stale socket file.
func isNoDaemon(err error) bool { return safesocket.IsNotListening(err) }
