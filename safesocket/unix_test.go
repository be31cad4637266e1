//go:build !windows

package safesocket_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/safesocket"
)

// ctxT is a bounded context for one test.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// listen opens a socket at path with cfg, closed when the test ends.
func listen(t *testing.T, cfg safesocket.Config) net.Listener {
	t.Helper()
	ln, err := safesocket.Listen(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// echo answers every connection of ln with what it reads.
func echo(ln net.Listener) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != want {
		t.Fatalf("%s: mode %v, want a socket with %04o", path, fi.Mode(), want)
	}
}

func TestListenDefaultModeIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	listen(t, safesocket.Config{Path: path})
	wantMode(t, path, safesocket.DefaultMode)
}

func TestListenModeGroupAndFolder(t *testing.T) {
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run", "tb")
	path := filepath.Join(dir, "s.sock")
	for _, group := range []string{g.Name, g.Gid} {
		ln := listen(t, safesocket.Config{Path: path, Mode: 0o660, Group: group, DirMode: 0o700})
		wantMode(t, path, 0o660)
		fi, _ := os.Stat(dir)
		if fi.Mode().Perm() != 0o700 {
			t.Fatalf("folder mode %v, want 0700", fi.Mode())
		}
		ln.Close()
	}
	_, err = safesocket.Listen(ctxT(t), safesocket.Config{Path: path, Group: "no-such-group-tb"})
	if err == nil {
		t.Fatal("an unknown group was accepted")
	}
}

func TestListenRefusesALiveServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	echo(listen(t, safesocket.Config{Path: path}))
	_, err := safesocket.Listen(ctxT(t), safesocket.Config{Path: path})
	var iu *safesocket.InUseError
	if !errors.As(err, &iu) || iu.Path != path {
		t.Fatalf("second listener: %v, want *InUseError for %s", err, path)
	}
	// The first server still answers.
	c, err := safesocket.Dial(ctxT(t), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %v %q", err, buf)
	}
}

func TestListenReplacesAStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close() // a server killed with SIGKILL leaves its socket file
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the stale socket should still exist: %v", err)
	}
	_, err = safesocket.Dial(ctxT(t), path)
	if err == nil || !safesocket.IsNotListening(err) {
		t.Fatalf("dial a stale socket: %v, want an error IsNotListening", err)
	}
	echo(listen(t, safesocket.Config{Path: path, Mode: 0o640}))
	wantMode(t, path, 0o640)
	c, err := safesocket.Dial(ctxT(t), path)
	if err != nil {
		t.Fatalf("dial the new server: %v", err)
	}
	c.Close()
}

func TestListenLeavesANonSocketAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := safesocket.Listen(ctxT(t), safesocket.Config{Path: path})
	var ns *safesocket.NotSocketError
	if !errors.As(err, &ns) || ns.Path != path {
		t.Fatalf("listen over a file: %v, want *NotSocketError", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Fatal("the file was touched")
	}
}

func TestDialNoSocket(t *testing.T) {
	_, err := safesocket.Dial(ctxT(t), filepath.Join(t.TempDir(), "none.sock"))
	if err == nil || !safesocket.IsNotListening(err) {
		t.Fatalf("dial nothing: %v, want an error IsNotListening", err)
	}
	if safesocket.IsNotListening(context.DeadlineExceeded) {
		t.Fatal("a timeout is not 'no server'")
	}
}
