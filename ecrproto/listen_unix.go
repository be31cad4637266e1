//go:build !windows

package ecrproto

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// listenUnix listens on a unix socket with cfg's mode (default 0660) and
// group. A stale socket file is removed only if nothing answers on it.
func listenUnix(ctx context.Context, cfg *ListenConfig) (net.Listener, error) {
	if cfg.Address == "" {
		cfg.Address = DefaultUnixSocket
	}
	mode := cfg.Mode
	if mode == 0 {
		mode = DefaultSocketMode
	}
	return localListen(ctx, safesocketConfig(cfg.Address, mode, cfg.Group))
}

func listenPipe(context.Context, *ListenConfig) (net.Listener, error) {
	return nil, fmt.Errorf("named pipes exist only on Windows: %w", errors.ErrUnsupported)
}

func dialPipe(context.Context, string) (net.Conn, error) {
	return nil, fmt.Errorf("ecrproto: named pipes exist only on Windows: %w", errors.ErrUnsupported)
}
