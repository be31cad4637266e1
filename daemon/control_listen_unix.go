//go:build !windows

package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// controlSocketMode: only the service account (and root) may talk to the
// control API; the CLI runs as root or as that account.
const controlSocketMode = 0o600

// ListenControl opens the control API's unix socket at path, mode 0600. A
// stale socket file left by a daemon that died is replaced; a live one is
// refused (another daemon runs on the same data directory).
func ListenControl(ctx context.Context, path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket folder: %w", err)
	}
	if err := removeStaleSocket(ctx, path); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, controlSocketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket mode: %w", err)
	}
	return ln, nil
}

// ErrControlInUse reports a control socket a live daemon answers on.
var ErrControlInUse = errors.New("another tillbridge daemon answers on this control socket")

// removeStaleSocket removes a socket nobody answers on; it refuses a path
// that is not a socket.
func removeStaleSocket(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return errors.New("exists and is not a socket")
	}
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		c.Close()
		return ErrControlInUse
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("probe: %w", err)
	}
	return os.Remove(path)
}

// dialControl connects to the control socket.
func dialControl(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}

// isNoDaemon reports whether a dial error means nobody serves the address:
// no socket file, or a stale one.
func isNoDaemon(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOENT)
}
