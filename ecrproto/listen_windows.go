//go:build windows

package ecrproto

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/tillbridge/tillbridge/safesocket"
)

// listenPipe listens on a named pipe whose security descriptor admits only
// SYSTEM, Administrators and cfg.Group. A pipe that already exists (a live
// server) is refused.
func listenPipe(ctx context.Context, cfg *ListenConfig) (net.Listener, error) {
	cfg.Address = pipePath(cfg.Address)
	return localListen(ctx, safesocketConfig(cfg.Address, 0, cfg.Group))
}

func dialPipe(ctx context.Context, path string) (net.Conn, error) {
	return safesocket.Dial(ctx, path)
}

func listenUnix(context.Context, *ListenConfig) (net.Listener, error) {
	return nil, fmt.Errorf("use a named pipe on Windows: %w", errors.ErrUnsupported)
}
