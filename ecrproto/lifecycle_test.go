package ecrproto_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// Short timers keep these tests fast; no assertion depends on how long
// anything took, only on what happened in which order.
const short = 30 * time.Millisecond

// idle is the idle timeout of tests that need one to fire: long enough that
// a loaded machine (CI runs packages in parallel under -race) never closes a
// fresh connection before its first request is written.
const idle = 500 * time.Millisecond

// waitStarted waits until a handler has started, failing the test if the
// request it waits on ends first (its connection was closed) or never comes.
func waitStarted(t *testing.T, started <-chan struct{}, done <-chan *ecrproto.Message) {
	t.Helper()
	select {
	case <-started:
	case r := <-done:
		t.Fatalf("request ended before its handler started: %+v", r)
	case <-time.After(guard):
		t.Fatal("handler never started")
	}
}

func TestServer_IdleTimeoutSparesInFlight(t *testing.T) {
	release, started := make(gate), make(chan struct{})
	srv := newServer(t, ecrproto.ServerOptions{IdleTimeout: idle, Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			if req.Type == "SALE" {
				close(started)
				release.wait(ctx)
			}
			saleHandler(ctx, req, w)
		})})
	addr := serveTCP(t, srv)
	busy := dial(t, "tcp", addr, nil)
	sale := make(chan *ecrproto.Message, 1)
	go func() { r, _ := busy.Sale(ctxT(t), "1", "R1", 100, "HKD", ""); sale <- r }()
	waitStarted(t, started, sale)

	// An idle connection opened after the sale started is closed by the
	// idle timeout; by then the busy one has been quiet for longer.
	quiet := dialRaw(t, "tcp", addr)
	quiet.expectClosed()
	wantResult(t, do(t, busy, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
	close(release)
	wantResult(t, <-sale, ecrproto.StatusApproved)

	// With nothing in flight any more, the busy connection goes idle too.
	select {
	case <-busy.Done():
	case <-time.After(guard):
		t.Fatal("connection with nothing in flight was not closed by the idle timeout")
	}
	if _, err := busy.Ping(ctxT(t)); !errors.Is(err, ecrproto.ErrClientClosed) {
		t.Fatalf("ping on a closed client: %v", err)
	}
}

func TestServer_SilentClientClosed(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{IdleTimeout: idle})
	addr := serveTCP(t, srv)
	dialRaw(t, "tcp", addr).expectClosed()
	c := dial(t, "tcp", addr, nil) // the server stays up
	wantResult(t, do(t, c, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
}

func TestServer_ReadTimeoutOnPartialMessage(t *testing.T) {
	for _, partial := range []string{`{"type":"PI`, "\x02type=PING"} {
		srv := newServer(t, ecrproto.ServerOptions{ReadTimeout: short, IdleTimeout: -1})
		p := dialRaw(t, "tcp", serveTCP(t, srv))
		p.write([]byte(partial))
		p.expectClosed()
	}
}

func TestServer_IdleTimeoutDisabled(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{IdleTimeout: -1, ReadTimeout: short})
	c := dial(t, "tcp", serveTCP(t, srv), nil)
	wantResult(t, do(t, c, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
	select {
	case <-c.Done():
		t.Fatal("closed although the idle timeout is disabled")
	case <-time.After(10 * short): // only a sanity window; the assertion is "not closed"
	}
	wantResult(t, do(t, c, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
}

func TestServer_ConnectionCap(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{MaxConns: 1})
	addr := serveTCP(t, srv)
	first := dial(t, "tcp", addr, nil)
	wantResult(t, do(t, first, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)

	for _, framed := range []bool{false, true} {
		extra := dial(t, "tcp", addr, &ecrproto.ClientOptions{Framed: framed})
		r, err := extra.Ping(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, r, ecrproto.CodeUnavailable, "")
		<-extra.Done() // and then closed
	}
	wantResult(t, do(t, first, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)

	// Once the first connection is gone its slot is free again.
	first.Close()
	testenv.WaitFor(t, guard, func() bool {
		c := dial(t, "tcp", addr, nil)
		if r := do(t, c, &ecrproto.Message{Type: "PING"}); r.Type == "RESULT" {
			return true
		}
		c.Close()
		return false
	}, "the first connection's slot freed")
}

func TestServer_ShutdownWaitsForInFlight(t *testing.T) {
	release, started := make(gate), make(chan struct{})
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			if req.Type == "SALE" {
				close(started)
				<-release // deliberately ignores ctx: a sale finishing its work
			}
			saleHandler(ctx, req, w)
		})})
	addr, serveErr := serve(t, srv, ecrproto.ListenConfig{Address: "127.0.0.1:0"})
	busy := dial(t, "tcp", addr, nil)
	idle := dial(t, "tcp", addr, nil)
	wantResult(t, do(t, idle, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
	sale := make(chan *ecrproto.Message, 1)
	go func() { r, _ := busy.Sale(ctxT(t), "1", "R1", 100, "HKD", ""); sale <- r }()
	waitStarted(t, started, sale)

	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctxT(t)) }()
	<-idle.Done() // idle connections close at once
	if err := <-serveErr; !errors.Is(err, ecrproto.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := ecrproto.DialConn(ctxT(t), "tcp", addr); err == nil {
		t.Fatal("listener still accepting")
	}
	// New requests on the busy connection are refused while it drains.
	wantError(t, do(t, busy, &ecrproto.Message{Type: "STATUS", Lane: "1"}), ecrproto.CodeUnavailable, "")
	wantResult(t, do(t, busy, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a sale in flight", err)
	default:
	}
	close(release)
	wantResult(t, <-sale, ecrproto.StatusApproved)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-busy.Done()
}

func TestServer_ShutdownContextExpires(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			close(started)
			<-ctx.Done()
			close(cancelled)
		})})
	c := dial(t, "tcp", serveTCP(t, srv), nil)
	go c.Sale(context.Background(), "1", "R1", 100, "HKD", "")
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown: %v", err)
	}
	<-cancelled // handler contexts are cancelled
	<-c.Done()  // and connections closed
}

func TestServer_ServeAfterShutdown(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{})
	if err := srv.Shutdown(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ln, err := ecrproto.Listen(ctxT(t), ecrproto.ListenConfig{Address: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); !errors.Is(err, ecrproto.ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}
