//go:build !windows

package daemon_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/tillbridge/tillbridge/daemon"
)

func TestControlSocketIsPrivateAndExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", daemon.ControlSocketName)
	ln, err := daemon.ListenControl(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket: %v %v", err, fi.Mode())
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := daemon.ListenControl(t.Context(), path); !errors.Is(err, daemon.ErrControlInUse) {
		t.Fatalf("second daemon on a live socket: %v", err)
	}
}

func TestControlSocketStaleIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), daemon.ControlSocketName)
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close() // a daemon killed with SIGKILL leaves its socket file
	var nr *daemon.NotRunningError
	if _, err := daemon.NewControlClient(path).Status(t.Context()); !errors.As(err, &nr) || nr.Addr != path {
		t.Fatalf("stale socket: %v", err)
	}
	ln, err := daemon.ListenControl(t.Context(), path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln.Close()
}

func TestControlClientNoDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.sock")
	_, err := daemon.NewControlClient(path).Status(context.Background())
	var nr *daemon.NotRunningError
	if !errors.As(err, &nr) || nr.Error() != "tillbridge daemon is not running (no control socket at "+path+")" {
		t.Fatalf("no socket: %v", err)
	}
}
