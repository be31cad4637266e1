//go:build !windows

package ecrproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"
)

// listenUnix listens on a unix socket with cfg's mode and group. A stale
// socket file is removed only if nothing answers on it.
func listenUnix(ctx context.Context, cfg *ListenConfig) (net.Listener, error) {
	if cfg.Address == "" {
		cfg.Address = DefaultUnixSocket
	}
	path := cfg.Address
	if err := removeStale(ctx, path); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	if err := setSocketAccess(path, cfg); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// removeStale removes a socket file left by a server that died, and
// refuses if a live server answers on it or if the path is not a socket.
func removeStale(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		c.Close()
		return ErrAddrInUse
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("probe existing socket: %w", err)
	}
	return os.Remove(path)
}

func setSocketAccess(path string, cfg *ListenConfig) error {
	mode := cfg.Mode
	if mode == 0 {
		mode = DefaultSocketMode
	}
	if cfg.Group != "" {
		gid, err := lookupGID(cfg.Group)
		if err != nil {
			return err
		}
		if err := os.Chown(path, -1, gid); err != nil {
			return fmt.Errorf("set socket group: %w", err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("set socket mode: %w", err)
	}
	return nil
}

// lookupGID resolves a group name or numeric gid.
func lookupGID(group string) (int, error) {
	if gid, err := strconv.Atoi(group); err == nil {
		return gid, nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, fmt.Errorf("socket group: %w", err)
	}
	return strconv.Atoi(g.Gid)
}

func listenPipe(context.Context, *ListenConfig) (net.Listener, error) {
	return nil, fmt.Errorf("named pipes exist only on Windows: %w", errors.ErrUnsupported)
}

func dialPipe(context.Context, string) (net.Conn, error) {
	return nil, fmt.Errorf("ecrproto: named pipes exist only on Windows: %w", errors.ErrUnsupported)
}
