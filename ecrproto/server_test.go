package ecrproto_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// saleHandler answers SALE with WAIT_SCAN, SENT and an APPROVED RESULT,
// STATUS with PENDING, and anything else with OK.
func saleHandler(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	if req.Type != "SALE" {
		status := ecrproto.StatusOK
		if req.Type == "STATUS" {
			status = ecrproto.StatusPending
		}
		w.Send(&ecrproto.Message{Type: "RESULT", Status: status})
		return
	}
	w.Send(&ecrproto.Message{Type: "EVENT", Event: ecrproto.EventWaitScan})
	w.Send(&ecrproto.Message{Type: "EVENT", Event: ecrproto.EventSent})
	w.Send(&ecrproto.Message{Type: "RESULT", Status: ecrproto.StatusApproved, Amount: req.Amount,
		Currency: req.Currency, AlipayTransID: "2026112522001400000000000001", Receipt: "PAID\nHKD 12.50\n"})
}

func TestServer_SaleBothEncodings(t *testing.T) {
	transports(t, func(t *testing.T, network string, srv *ecrproto.Server, addr string, _ ecrproto.ServerOptions) {
		srv.SetHandler(ecrproto.HandlerFunc(saleHandler))
		for _, framed := range []bool{false, true} {
			var mu sync.Mutex
			var events []string
			c := dial(t, network, addr, &ecrproto.ClientOptions{Framed: framed, OnEvent: func(m *ecrproto.Message) {
				mu.Lock()
				events = append(events, m.Event+"/"+m.Ref)
				mu.Unlock()
			}})
			r, err := c.Sale(ctxT(t), "1", "R1", 1250, "HKD", "281234567890123400")
			if err != nil {
				t.Fatal(err)
			}
			wantResult(t, r, ecrproto.StatusApproved)
			if r.Lane != "1" || r.Ref != "R1" || *r.Amount != 1250 || r.AlipayTransID == "" || r.Receipt != "PAID\nHKD 12.50\n" {
				t.Fatalf("framed=%v: result %+v", framed, r)
			}
			mu.Lock()
			if len(events) != 2 || events[0] != "WAIT_SCAN/R1" || events[1] != "SENT/R1" {
				t.Fatalf("framed=%v: events %v", framed, events)
			}
			mu.Unlock()
		}
	})
}

func TestServer_HelloAndPingWithoutHandler(t *testing.T) {
	transports(t, func(t *testing.T, network string, srv *ecrproto.Server, addr string, _ ecrproto.ServerOptions) {
		c := dial(t, network, addr, nil)
		r, err := c.Hello(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		wantResult(t, r, ecrproto.StatusOK)
		if r.Version != ecrproto.ProtocolVersion || r.Message != "starting" {
			t.Fatalf("HELLO answer before start-up finished: %+v", r)
		}
		r, _ = c.Ping(ctxT(t))
		wantResult(t, r, ecrproto.StatusOK)
		r, _ = c.Sale(ctxT(t), "1", "R1", 100, "HKD", "")
		wantError(t, r, ecrproto.CodeUnavailable, "")
		if r.Lane != "1" || r.Ref != "R1" || r.ID == "" {
			t.Fatalf("E_UNAVAILABLE must echo id, lane, ref: %+v", r)
		}
		srv.SetHandler(ecrproto.HandlerFunc(saleHandler))
		if r, _ = c.Ping(ctxT(t)); r.Message != "ready" {
			t.Fatalf("PING answer after start-up: %+v", r)
		}
		r, _ = c.Sale(ctxT(t), "1", "R1", 100, "HKD", "")
		wantResult(t, r, ecrproto.StatusApproved)
		srv.SetHandler(nil)
		r, _ = c.Status(ctxT(t), "1", "R1")
		wantError(t, r, ecrproto.CodeUnavailable, "")
	})
}

func TestServer_ConcurrentRequestsOnOneConnection(t *testing.T) {
	for _, framed := range []bool{false, true} {
		srv := newServer(t, ecrproto.ServerOptions{})
		release, started := make(gate), make(chan struct{})
		srv.SetHandler(ecrproto.HandlerFunc(func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			if req.Type == "SALE" {
				close(started)
				if release.wait(ctx) != nil {
					return
				}
			}
			saleHandler(ctx, req, w)
		}))
		c := dial(t, "tcp", serveTCP(t, srv), &ecrproto.ClientOptions{Framed: framed})
		sale := make(chan *ecrproto.Message, 1)
		go func() { r, _ := c.Sale(ctxT(t), "1", "R1", 1250, "HKD", ""); sale <- r }()
		<-started
		for i := 0; i < 3; i++ { // the sale is still running
			wantResult(t, do(t, c, &ecrproto.Message{Type: "STATUS", Lane: "1", Ref: "R1"}), ecrproto.StatusPending)
			wantResult(t, do(t, c, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
		}
		close(release)
		wantResult(t, <-sale, ecrproto.StatusApproved)
	}
}

func TestServer_PanicRecovery(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			if req.Type == "SALE" {
				panic("boom")
			}
			saleHandler(ctx, req, w)
		})})
	addr := serveTCP(t, srv)
	for _, framed := range []bool{false, true} {
		c := dial(t, "tcp", addr, &ecrproto.ClientOptions{Framed: framed})
		r, _ := c.Sale(ctxT(t), "1", "R1", 1, "HKD", "")
		wantError(t, r, ecrproto.CodeInternal, "")
		wantResult(t, do(t, c, &ecrproto.Message{Type: "STATUS", Lane: "1"}), ecrproto.StatusPending)
	}
	c := dial(t, "tcp", addr, nil) // the server still accepts
	wantResult(t, do(t, c, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
}

func TestServer_HandlerWithoutFinalAnswer(t *testing.T) {
	sendErr := make(chan error, 1)
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			if req.Type == "STATUS" {
				w.Send(&ecrproto.Message{Type: "RESULT", Status: "PENDING"})
				sendErr <- w.Send(&ecrproto.Message{Type: "RESULT", Status: "APPROVED"})
				return
			}
			w.Send(&ecrproto.Message{Type: "EVENT", Event: "WAIT_SCAN"}) // and no RESULT
		})})
	c := dial(t, "tcp", serveTCP(t, srv), nil)
	r, _ := c.Sale(ctxT(t), "1", "R1", 1, "HKD", "")
	wantError(t, r, ecrproto.CodeInternal, "")
	wantResult(t, do(t, c, &ecrproto.Message{Type: "STATUS", Lane: "1"}), ecrproto.StatusPending)
	if err := <-sendErr; !errors.Is(err, ecrproto.ErrResponseDone) {
		t.Fatalf("second final answer: %v", err)
	}
}

func TestServer_SendValidatesResponses(t *testing.T) {
	errs := make(chan error, 3)
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			errs <- w.Send(&ecrproto.Message{Type: "SALE"})
			errs <- w.Send(&ecrproto.Message{Type: "RESULT", Status: "PAID"})
			errs <- w.Send(&ecrproto.Message{Type: "EVENT", Event: "X", Message: "a\x02"})
			w.Send(&ecrproto.Message{Type: "RESULT", Status: "OK"})
		})})
	c := dial(t, "tcp", serveTCP(t, srv), nil)
	wantResult(t, do(t, c, &ecrproto.Message{Type: "DEVICES"}), ecrproto.StatusOK)
	for i := 0; i < 3; i++ {
		if err := <-errs; err == nil {
			t.Fatalf("bad response %d was accepted", i)
		}
	}
}

func TestServer_ResponseWriterInfo(t *testing.T) {
	type info struct {
		id  uint64
		enc ecrproto.Encoding
	}
	got := make(chan info, 2)
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			if w.RemoteAddr() == nil {
				panic("no remote address")
			}
			got <- info{w.ConnID(), w.Encoding()}
			w.Send(&ecrproto.Message{Type: "RESULT", Status: "OK"})
		})})
	addr := serveTCP(t, srv)
	do(t, dial(t, "tcp", addr, nil), &ecrproto.Message{Type: "DEVICES"})
	do(t, dial(t, "tcp", addr, &ecrproto.ClientOptions{Framed: true}), &ecrproto.Message{Type: "DEVICES"})
	a, b := <-got, <-got
	if a.id == b.id || a.enc != ecrproto.EncodingJSON || b.enc != ecrproto.EncodingFramed {
		t.Fatalf("conn info %+v %+v", a, b)
	}
}

func TestServer_DuplicateIDInFlight(t *testing.T) {
	release := make(gate)
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			release.wait(ctx)
			saleHandler(ctx, req, w)
		})})
	p := dialRaw(t, "tcp", serveTCP(t, srv))
	line := []byte(`{"type":"SALE","id":"s1","lane":"1","ref":"R1","amount":100,"currency":"HKD"}` + "\n")
	p.write(line)
	p.write(line) // identical: a retransmission, ignored
	p.write([]byte(`{"type":"SALE","id":"s1","lane":"1","ref":"R2","amount":100,"currency":"HKD"}` + "\n"))
	r := p.readJSON()
	wantError(t, r, ecrproto.CodeField, "id")
	if r.Ref != "R2" {
		t.Fatalf("the refused request is the second one: %+v", r)
	}
	close(release)
	var results int
	for results == 0 {
		m := p.readJSON()
		if m.Type == "RESULT" {
			results++
			if m.Ref != "R1" {
				t.Fatalf("result %+v", m)
			}
		}
	}
	p.write([]byte(`{"type":"PING","id":"p"}` + "\n"))
	for {
		m := p.readJSON()
		if m.Type == "RESULT" && m.ID == "p" {
			break
		}
		if m.Type == "RESULT" {
			t.Fatalf("a second RESULT for the ignored retransmission: %+v", m)
		}
	}
}

func TestServer_MaxInFlight(t *testing.T) {
	release := make(gate)
	srv := newServer(t, ecrproto.ServerOptions{MaxInFlight: 2, Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			release.wait(ctx)
			saleHandler(ctx, req, w)
		})})
	p := dialRaw(t, "tcp", serveTCP(t, srv))
	p.write([]byte(`{"type":"STATUS","id":"1","lane":"1"}` + "\n" + `{"type":"STATUS","id":"2","lane":"1"}` + "\n" +
		`{"type":"STATUS","id":"3","lane":"1"}` + "\n"))
	r := p.readJSON()
	if r.ID != "3" {
		t.Fatalf("first answer %+v, want the refusal of request 3", r)
	}
	wantError(t, r, ecrproto.CodeUnavailable, "")
	close(release)
	p.readJSON()
	p.readJSON()
}
