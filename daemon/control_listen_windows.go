//go:build windows

package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/Microsoft/go-winio"
)

// controlPipeSDDL admits SYSTEM and the built-in Administrators only, with
// no inherited entries: the control API can resolve payments by hand.
const controlPipeSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// ErrControlInUse reports a control pipe a live daemon answers on.
var ErrControlInUse = errors.New("another tillbridge daemon answers on this control pipe")

// ListenControl opens the control API's named pipe, for SYSTEM and
// Administrators only. A pipe a live daemon serves is refused.
func ListenControl(ctx context.Context, name string) (net.Listener, error) {
	path := controlPipePath(name)
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	c, err := winio.DialPipeContext(pctx, path)
	cancel()
	if err == nil {
		c.Close()
		return nil, fmt.Errorf("control pipe %s: %w", path, ErrControlInUse)
	}
	ln, err := winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: controlPipeSDDL,
		InputBufferSize: 64 << 10, OutputBufferSize: 64 << 10})
	if err != nil {
		return nil, fmt.Errorf("control pipe %s: %w", path, err)
	}
	return ln, nil
}

// controlPipePath turns a bare name into a pipe path.
func controlPipePath(name string) string {
	if name == "" {
		return DefaultControlPipe
	}
	if strings.HasPrefix(name, `\\`) {
		return name
	}
	return `\\.\pipe\` + name
}

// dialControl connects to the control pipe.
func dialControl(ctx context.Context, name string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, controlPipePath(name))
}

// isNoDaemon reports whether a dial error means nobody serves the pipe.
func isNoDaemon(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ERROR_FILE_NOT_FOUND) ||
		errors.Is(err, syscall.ERROR_PATH_NOT_FOUND)
}
