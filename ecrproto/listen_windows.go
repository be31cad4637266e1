//go:build windows

package ecrproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/Microsoft/go-winio"
)

// listenPipe listens on a named pipe whose security descriptor admits only
// SYSTEM, Administrators and cfg.Group. A pipe that already exists (a live
// server) is refused.
func listenPipe(ctx context.Context, cfg *ListenConfig) (net.Listener, error) {
	path := pipePath(cfg.Address)
	cfg.Address = path
	sid, err := groupSID(cfg.Group)
	if err != nil {
		return nil, err
	}
	if pipeAnswers(ctx, path) {
		return nil, ErrAddrInUse
	}
	return winio.ListenPipe(path, &winio.PipeConfig{
		SecurityDescriptor: pipeSDDL(sid),
		InputBufferSize:    DefaultMaxMessageSize,
		OutputBufferSize:   DefaultMaxMessageSize,
	})
}

// pipeAnswers reports whether a server already listens on the pipe.
func pipeAnswers(ctx context.Context, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	c, err := dialPipe(ctx, path)
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

func dialPipe(ctx context.Context, path string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, path)
}

func listenUnix(context.Context, *ListenConfig) (net.Listener, error) {
	return nil, fmt.Errorf("use a named pipe on Windows: %w", errors.ErrUnsupported)
}
