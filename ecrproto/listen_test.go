package ecrproto_test

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

func TestListen_TCPDefaultsToLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "example.com:7420"} {
		_, err := ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Address: addr})
		var le *ecrproto.ListenError
		if !errors.Is(err, ecrproto.ErrRemoteNotAllowed) || !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want ListenError wrapping ErrRemoteNotAllowed", addr, err)
		}
	}
	_, err := ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Address: "0.0.0.0:0", AllowRemote: true})
	if !errors.Is(err, ecrproto.ErrRemoteNotAllowed) {
		t.Errorf("AllowRemote without a key: %v", err)
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		ln, err := ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Address: addr})
		if err != nil {
			if addr == "[::1]:0" { // hosts without IPv6
				continue
			}
			t.Fatalf("%s: %v", addr, err)
		}
		ln.Close()
	}
}

// testKey is a shared key of the minimum length.
const testKey = "0123456789abcdef"

func TestListen_RemoteNeedsKey(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{AuthDelay: -1, Handler: ecrproto.HandlerFunc(saleHandler)})
	addr, _ := serve(t, srv, ecrproto.ListenConfig{Address: "127.0.0.2:0", SharedKey: testKey})

	p := dialRaw(t, "tcp", addr) // anything but HELLO first
	p.write([]byte(`{"type":"PING","id":"1"}` + "\n"))
	wantError(t, p.readJSON(), ecrproto.CodeAuth, "")
	p.expectClosed()

	p = dialRaw(t, "tcp", addr) // garbage first
	p.write([]byte("garbage\n"))
	wantError(t, p.readJSON(), ecrproto.CodeAuth, "")
	p.expectClosed()

	p = dialRaw(t, "tcp", addr) // the wrong key, framed
	p.writeFrame(&ecrproto.Message{Type: "HELLO", ID: "1", Key: "wrong"})
	p.expectControl(ecrproto.FrameACK)
	wantError(t, p.readFrameMsg(), ecrproto.CodeAuth, "")
	p.expectClosed()

	if _, err := ecrproto.Dial(ctxT(t), "tcp", addr, &ecrproto.ClientOptions{Key: "wrong"}); err == nil {
		t.Fatal("Dial with the wrong key succeeded")
	}
	for _, framed := range []bool{false, true} {
		c := dial(t, "tcp", addr, &ecrproto.ClientOptions{Key: testKey, Framed: framed})
		r, _ := c.Sale(ctxT(t), "1", "R1", 100, "HKD", "")
		wantResult(t, r, ecrproto.StatusApproved)
	}
}

func TestListen_KeyTooShort(t *testing.T) {
	_, err := ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Address: "127.0.0.1:0", SharedKey: testKey[:ecrproto.MinKeyLen-1]})
	if !errors.Is(err, ecrproto.ErrKeyTooShort) {
		t.Fatalf("a %d-character key: %v, want ErrKeyTooShort", ecrproto.MinKeyLen-1, err)
	}
}

func TestListen_Unix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix sockets are served on Linux")
	}
	path := filepath.Join(t.TempDir(), "ecr.sock")
	g, err := user.LookupGroupId(itoa(os.Getgid()))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Network: "unix", Address: path, Group: g.Name})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode %v, want 0660 socket", fi.Mode())
	}

	// A live server on the path is never displaced.
	_, err = ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Network: "unix", Address: path})
	if !errors.Is(err, ecrproto.ErrAddrInUse) {
		t.Fatalf("second listener: %v, want ErrAddrInUse", err)
	}
	var le *ecrproto.ListenError
	if !errors.As(err, &le) || le.Network != "unix" || le.Address != path {
		t.Fatalf("second listener: %v, want a ListenError naming the socket", err)
	}
	ln.Close()

	// An explicit mode. Stale sockets, non-sockets and the rest of the
	// socket's rules are safesocket's, tested there.
	ln, err = ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Network: "unix", Address: path, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode())
	}
}

func TestListen_UnknownGroupAndNetwork(t *testing.T) {
	_, err := ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Network: "carrier-pigeon"})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("unknown network: %v", err)
	}
	if runtime.GOOS != "windows" {
		_, err = ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Network: "pipe"})
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("pipe on %s: %v", runtime.GOOS, err)
		}
		path := filepath.Join(t.TempDir(), "ecr.sock")
		_, err = ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Network: "unix", Address: path, Group: "no-such-group-tb"})
		if err == nil {
			t.Fatal("unknown group accepted")
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
