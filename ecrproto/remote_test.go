package ecrproto_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// serveRemote serves a remote listener (a shared key) on a 127.0.0.x
// address: the server treats a listener as remote by its kind, never by
// the peer's address, so loopback stands in for the counter LAN.
func serveRemote(t *testing.T, srv *ecrproto.Server, host string, opts ecrproto.RemoteOptions) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ecrproto.RequireKeyWith(ln, testKey, opts))
	return ln.Addr().String()
}

// dialFrom opens a raw connection to addr from the loopback address from,
// a distinct peer for the server's per-peer rules.
func dialFrom(t *testing.T, from, addr string) *raw {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.DialContext(ctxT(t), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newRaw(t, c)
}

// hello sends HELLO with key and returns the answer.
func (r *raw) hello(key string) *ecrproto.Message {
	r.t.Helper()
	r.write([]byte(`{"type":"HELLO","id":"h","key":"` + key + `"}` + "\n"))
	return r.readJSON()
}

// TestRemote_LocalSlotsSurviveRemoteFlood: unauthenticated connections to
// a remote listener take at most MaxConns-LocalReserve slots; the ECR on
// loopback TCP and on the unix socket still connects and is answered.
func TestRemote_LocalSlotsSurviveRemoteFlood(t *testing.T) {
	const maxConns, reserve = 8, 2
	srv := newServer(t, ecrproto.ServerOptions{MaxConns: maxConns, LocalReserve: reserve,
		Handler: ecrproto.HandlerFunc(saleHandler)})
	remote := serveRemote(t, srv, "127.0.0.2", ecrproto.RemoteOptions{MaxConns: 100, MaxConnsPerPeer: 100, HelloTimeout: -1})
	tcpAddr, unixAddr := serveTCP(t, srv), serveUnix(t, srv)

	var peers []*raw
	for range maxConns + 4 {
		peers = append(peers, dialRaw(t, "tcp", remote)) // silent: never sends HELLO
	}
	// The remote share is full: the rest were closed at once, unanswered.
	for _, p := range peers[maxConns-reserve:] {
		p.expectClosedSilently()
	}
	for _, network := range []string{"tcp", "unix"} {
		addr := map[string]string{"tcp": tcpAddr, "unix": unixAddr}[network]
		c := dial(t, network, addr, nil)
		wantResult(t, do(t, c, &ecrproto.Message{Type: "STATUS", Lane: "1"}), ecrproto.StatusPending)
	}
	// The remote connections inside the share are still served.
	wantResult(t, peers[0].hello(testKey), ecrproto.StatusOK)
}

// TestRemote_PerListenerAndPerPeerCaps: one address cannot hold more than
// MaxConnsPerPeer connections, nor a listener more than its MaxConns.
func TestRemote_PerListenerAndPerPeerCaps(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{MaxConns: 64})
	addr := serveRemote(t, srv, "127.0.0.2", ecrproto.RemoteOptions{MaxConns: 3, MaxConnsPerPeer: 2, HelloTimeout: -1})

	a1, a2, a3 := dialFrom(t, "127.0.0.3", addr), dialFrom(t, "127.0.0.3", addr), dialFrom(t, "127.0.0.3", addr)
	a3.expectClosedSilently() // the peer's third
	b1 := dialFrom(t, "127.0.0.4", addr)
	c1 := dialFrom(t, "127.0.0.5", addr)
	c1.expectClosedSilently() // the listener's fourth
	for _, p := range []*raw{a1, a2, b1} {
		wantResult(t, p.hello(testKey), ecrproto.StatusOK)
	}
	// A slot freed is usable again.
	a1.c.Close()
	testenv.WaitFor(t, guard, func() bool {
		p := dialFrom(t, "127.0.0.5", addr)
		p.write([]byte(`{"type":"HELLO","id":"h","key":"` + testKey + `"}` + "\n"))
		p.c.SetReadDeadline(time.Now().Add(guard))
		line, err := p.br.ReadBytes('\n')
		if err != nil {
			return false
		}
		m, _ := ecrproto.DecodeJSON(line[:len(line)-1])
		wantResult(t, m, ecrproto.StatusOK)
		return true
	}, "the slot of a closed connection freed")
}

// TestRemote_HelloDeadline: a remote connection that sends nothing, or
// never finishes its HELLO, is closed at the HELLO deadline; one that sent
// HELLO in time is not — it is still served after the others, opened
// after it, were closed.
func TestRemote_HelloDeadline(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{})
	addr := serveRemote(t, srv, "127.0.0.2", ecrproto.RemoteOptions{HelloTimeout: idle})
	good := dialRaw(t, "tcp", addr)
	wantResult(t, good.hello(testKey), ecrproto.StatusOK)
	silent := dialRaw(t, "tcp", addr)
	partial := dialRaw(t, "tcp", addr) // a HELLO that never ends
	partial.write([]byte(`{"type":"HELLO","id":"h","key":"`))
	silent.expectClosedSilently()
	partial.expectClosedSilently()
	good.write([]byte(`{"type":"PING","id":"p"}` + "\n"))
	wantResult(t, good.readJSON(), ecrproto.StatusOK)
}

// TestRemote_FailedHelloDelays: after failed HELLOs from an address, its
// next HELLO answers wait longer and longer (the server's sleeper is
// replaced, so the test sees each delay without waiting); a success clears
// the address; other addresses are not delayed.
func TestRemote_FailedHelloDelays(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{AuthDelay: time.Second, AuthDelayMax: 8 * time.Second})
	var mu sync.Mutex
	var delays []time.Duration
	ecrproto.SetSleep(srv, func(_ context.Context, d time.Duration) error {
		mu.Lock()
		delays = append(delays, d)
		mu.Unlock()
		return nil
	})
	took := func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		out := delays
		delays = nil
		return out
	}
	addr := serveRemote(t, srv, "127.0.0.2", ecrproto.RemoteOptions{})

	for range 5 {
		p := dialFrom(t, "127.0.0.3", addr)
		wantError(t, p.hello("wrong-key-wrong-key"), ecrproto.CodeAuth, "")
		p.expectClosed()
	}
	got := took()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}

	other := dialFrom(t, "127.0.0.4", addr)
	wantResult(t, other.hello(testKey), ecrproto.StatusOK)
	if d := took(); len(d) != 0 {
		t.Fatalf("another address was delayed %v", d)
	}

	p := dialFrom(t, "127.0.0.3", addr) // the right key: still delayed, then cleared
	wantResult(t, p.hello(testKey), ecrproto.StatusOK)
	if d := took(); len(d) != 1 || d[0] != 8*time.Second {
		t.Fatalf("the good HELLO after failures was delayed %v, want [8s]", d)
	}
	p = dialFrom(t, "127.0.0.3", addr)
	wantResult(t, p.hello(testKey), ecrproto.StatusOK)
	if d := took(); len(d) != 0 {
		t.Fatalf("delayed %v after a success", d)
	}
}
