//go:build !windows

package safesocket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// probeTimeout bounds the dial that finds out whether a server still
// answers on an existing socket.
const probeTimeout = time.Second

// listen opens a unix socket with cfg's mode and group, over a stale
// socket file if one is left.
func listen(ctx context.Context, cfg Config) (net.Listener, error) {
	path := cfg.Path
	if cfg.DirMode != 0 {
		if err := os.MkdirAll(filepath.Dir(path), cfg.DirMode); err != nil {
			return nil, fmt.Errorf("socket folder: %w", err)
		}
	}
	if err := removeStale(ctx, path); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	if err := setAccess(path, cfg); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// removeStale removes a socket file left by a server that died. It refuses
// when a live server answers on it, or when the path is not a socket.
func removeStale(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return &NotSocketError{Path: path}
	}
	d := net.Dialer{Timeout: probeTimeout}
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		c.Close()
		return &InUseError{Path: path}
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("probe existing socket: %w", err)
	}
	return os.Remove(path)
}

// setAccess gives the socket its group, then its mode.
func setAccess(path string, cfg Config) error {
	mode := cfg.Mode
	if mode == 0 {
		mode = DefaultMode
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

func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}

func isNotListening(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOENT)
}
