package ecrproto_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

func TestClient_GeneratesIDsAndKeepsCallersMessage(t *testing.T) {
	ids := make(chan string, 2)
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			ids <- req.ID
			w.Send(&ecrproto.Message{Type: "RESULT", Status: "OK"})
		})})
	c := dial(t, "tcp", serveTCP(t, srv), nil)
	req := &ecrproto.Message{Type: "DEVICES"}
	r1, r2 := do(t, c, req), do(t, c, req)
	a, b := <-ids, <-ids
	if a == "" || a == b || r1.ID != a || r2.ID != b {
		t.Fatalf("ids %q %q, answers %q %q", a, b, r1.ID, r2.ID)
	}
	if req.ID != "" {
		t.Fatal("Do modified the caller's message")
	}
	r := do(t, c, &ecrproto.Message{Type: "DEVICES", ID: "mine"})
	if r.ID != "mine" || <-ids != "mine" {
		t.Fatalf("caller's id not kept: %q", r.ID)
	}
}

func TestClient_UnmatchedErrorGoesToOnlyRequest(t *testing.T) {
	addr, peers := fakePeer(t)
	c := dial(t, "tcp", addr, nil)
	res := make(chan *ecrproto.Message, 1)
	go func() { r, _ := c.Ping(context.Background()); res <- r }()
	p := <-peers
	p.br.ReadBytes('\n')
	p.write([]byte(`{"type":"ERROR","code":"E_TOO_LARGE","message":"too big"}` + "\n"))
	wantError(t, <-res, ecrproto.CodeTooLarge, "")
}

func TestClient_ContextAndClose(t *testing.T) {
	addr, peers := fakePeer(t)
	c := dial(t, "tcp", addr, nil)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { _, err := c.Ping(ctx); res <- err }()
	p := <-peers
	p.br.ReadBytes('\n') // the request arrived; no answer comes
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Do: %v", err)
	}
	go func() { _, err := c.Ping(context.Background()); res <- err }()
	p.br.ReadBytes('\n')
	p.c.Close() // the server goes away mid-request
	if err := <-res; !errors.Is(err, ecrproto.ErrClientClosed) {
		t.Fatalf("Do on a dropped connection: %v", err)
	}
	if _, err := c.Ping(context.Background()); !errors.Is(err, ecrproto.ErrClientClosed) {
		t.Fatalf("Do after the drop: %v", err)
	}
}

func TestClient_EventsInOrder(t *testing.T) {
	events := []string{"WAIT_SCAN", "SCANNED", "SENT", "WAIT_BUYER_CONFIRM", "PRINTING"}
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			for _, e := range events {
				w.Send(&ecrproto.Message{Type: "EVENT", Event: e})
			}
			w.Send(&ecrproto.Message{Type: "RESULT", Status: "APPROVED", AlipayTransID: "T1"})
		})})
	addr := serveTCP(t, srv)
	for _, framed := range []bool{false, true} {
		var got []string
		c := dial(t, "tcp", addr, &ecrproto.ClientOptions{Framed: framed,
			OnEvent: func(m *ecrproto.Message) { got = append(got, m.Event) }})
		r, _ := c.Sale(ctxT(t), "1", "R1", 1, "HKD", "")
		wantResult(t, r, "APPROVED")
		if len(got) != len(events) {
			t.Fatalf("framed=%v events %v", framed, got)
		}
		for i := range events {
			if got[i] != events[i] {
				t.Fatalf("framed=%v events %v, want %v", framed, got, events)
			}
		}
	}
}

func TestClient_DialFailureNamesDaemon(t *testing.T) {
	_, err := ecrproto.Dial(ctxT(t), "unix", t.TempDir()+"/none.sock", nil)
	if err == nil {
		t.Fatal("dial succeeded")
	}
	if want := "is the daemon running?"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q lacks the hint", err)
	}
}
