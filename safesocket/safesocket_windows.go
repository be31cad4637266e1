//go:build windows

package safesocket

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

// pipeProbeTimeout bounds the dial that finds out whether a server already
// answers on a pipe.
const pipeProbeTimeout = 500 * time.Millisecond

// listen opens a named pipe whose security descriptor admits only SYSTEM,
// the Administrators and cfg.Group. A pipe a live server answers on is
// refused.
func listen(ctx context.Context, cfg Config) (net.Listener, error) {
	path := PipePath(cfg.Path)
	sid, err := groupSID(cfg.Group)
	if err != nil {
		return nil, err
	}
	if pipeAnswers(ctx, path) {
		return nil, &InUseError{Path: path}
	}
	buf := cfg.PipeBuffer
	if buf == 0 {
		buf = DefaultPipeBuffer
	}
	return winio.ListenPipe(path, &winio.PipeConfig{
		SecurityDescriptor: pipeSDDL(sid),
		InputBufferSize:    buf,
		OutputBufferSize:   buf,
	})
}

// pipeAnswers reports whether a server already listens on the pipe.
func pipeAnswers(ctx context.Context, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, pipeProbeTimeout)
	defer cancel()
	c, err := winio.DialPipeContext(ctx, path)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// groupSID resolves a group name to its SID; a value starting with "S-1-"
// is taken as a SID already.
func groupSID(group string) (string, error) {
	if group == "" || strings.HasPrefix(group, "S-1-") {
		return group, nil
	}
	sid, err := winio.LookupSidByName(group)
	if err != nil {
		return "", fmt.Errorf("pipe group %q: %w", group, err)
	}
	return sid, nil
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, PipePath(path))
}

func isNotListening(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ERROR_FILE_NOT_FOUND) ||
		errors.Is(err, syscall.ERROR_PATH_NOT_FOUND)
}
