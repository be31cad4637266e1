package ecrproto_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// These tests pin rules of docs/ecr-protocol.md that an independent client
// written from the document relies on: E_TYPE for answers sent by the
// ECR, id reuse after a final answer, collisions with a running request,
// pipelined requests, and fields a request type does not use.

// peer is a raw client in one encoding: it sends messages and reads the
// server's messages, ACKing frames.
type peer struct {
	*raw
	framed bool
}

func dialPeer(t *testing.T, addr string, framed bool) *peer {
	t.Helper()
	return &peer{raw: dialRaw(t, "tcp", addr), framed: framed}
}

// encode returns m in the peer's encoding.
func (p *peer) encode(m *ecrproto.Message) []byte {
	p.t.Helper()
	if p.framed {
		b, err := ecrproto.EncodeFrame(m)
		if err != nil {
			p.t.Fatal(err)
		}
		return b
	}
	b, err := ecrproto.AppendJSON(nil, m)
	if err != nil {
		p.t.Fatal(err)
	}
	return append(b, '\n')
}

// send writes m; in framed mode it waits for the server's ACK.
func (p *peer) send(m *ecrproto.Message) {
	p.t.Helper()
	p.write(p.encode(m))
	if p.framed {
		p.expectControl(ecrproto.FrameACK)
	}
}

// sendRaw writes a message given as JSON text (JSON mode) or as frame
// payload fields (framed mode), without waiting for anything.
func (p *peer) sendRaw(jsonLine, payload string) {
	p.t.Helper()
	if p.framed {
		p.write(ecrproto.AppendFrame(nil, []byte(payload)))
		return
	}
	p.write([]byte(jsonLine + "\n"))
}

// read returns the server's next message, skipping ACKs in framed mode.
func (p *peer) read() *ecrproto.Message {
	p.t.Helper()
	if !p.framed {
		return p.readJSON()
	}
	for {
		f := p.readItem()
		if f.Kind != ecrproto.FrameData {
			continue
		}
		m, err := ecrproto.DecodeFields(f.Payload)
		if err != nil {
			p.t.Fatalf("server sent undecodable frame %q: %v", f.Payload, err)
		}
		p.write([]byte{ecrproto.ACK})
		return m
	}
}

// readFinal returns the next RESULT or ERROR, skipping EVENTs.
func (p *peer) readFinal() *ecrproto.Message {
	p.t.Helper()
	for {
		if m := p.read(); m.IsFinal() {
			return m
		}
	}
}

func bothEncodings(t *testing.T, f func(t *testing.T, framed bool)) {
	for _, framed := range []bool{false, true} {
		name := "json"
		if framed {
			name = "framed"
		}
		t.Run(name, func(t *testing.T) { f(t, framed) })
	}
}

// TestContract_AnswerTypesFromTheECRAreETYPE: RESULT, EVENT and ERROR are
// not requests; sent by the ECR, with or without the fields an answer
// has, they get E_TYPE (not E_FIELD), and the connection stays.
func TestContract_AnswerTypesFromTheECRAreETYPE(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(saleHandler)})
	addr := serveTCP(t, srv)
	bothEncodings(t, func(t *testing.T, framed bool) {
		p := dialPeer(t, addr, framed)
		p.send(&ecrproto.Message{Type: "PING", ID: "p0"}) // a valid request first: the connection is established
		wantResult(t, p.readFinal(), ecrproto.StatusOK)
		for i, m := range []*ecrproto.Message{
			{Type: "RESULT", ID: "r1"},
			{Type: "RESULT", ID: "r2", Status: "OK"},
			{Type: "EVENT", ID: "e1"},
			{Type: "EVENT", ID: "e2", Event: "SENT"},
			{Type: "ERROR", ID: "x1"},
			{Type: "ERROR", ID: "x2", Code: "E_FIELD"},
			{Type: "PAY", ID: "u1"},
		} {
			p.send(m)
			r := p.readFinal()
			wantError(t, r, ecrproto.CodeType, "")
			if r.ID != m.ID {
				t.Fatalf("%d: the E_TYPE answer echoes id %q, want %q", i, r.ID, m.ID)
			}
		}
		p.send(&ecrproto.Message{Type: "PING", ID: "p1"})
		wantResult(t, p.readFinal(), ecrproto.StatusOK)
	})
}

// TestContract_IDReusableAfterFinalAnswer: once the final answer of a
// request has arrived, its id may be used again at once, and the new
// request is run — never refused as "in flight", never dropped as a
// retransmission.
func TestContract_IDReusableAfterFinalAnswer(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			w.Send(&ecrproto.Message{Type: "RESULT", Status: ecrproto.StatusOK, Message: "done " + req.Ref})
		})})
	addr := serveTCP(t, srv)
	bothEncodings(t, func(t *testing.T, framed bool) {
		p := dialPeer(t, addr, framed)
		for i := 0; i < 200; i++ {
			// The same request each time: an id still registered would be
			// dropped as a retransmission (and the test would hang).
			req := &ecrproto.Message{Type: "STATUS", ID: "same", Lane: "1", Ref: "R1"}
			if i%2 == 1 {
				req.Ref = "R2" // different content: would be refused as a collision
			}
			p.send(req)
			r := p.readFinal()
			if r.Type != "RESULT" || r.ID != "same" || r.Message != "done "+req.Ref {
				t.Fatalf("round %d: got %s %s/%s %q (id %q), want the RESULT of the reused id", i, r.Type, r.Code, r.Field, r.Message, r.ID)
			}
		}
		// The server-answered requests too.
		for i := 0; i < 50; i++ {
			p.send(&ecrproto.Message{Type: "PING", ID: "same"})
			wantResult(t, p.readFinal(), ecrproto.StatusOK)
			p.send(&ecrproto.Message{Type: "STATUS", ID: "same", Lane: "1", Ref: "R3"})
			if r := p.readFinal(); r.Type != "RESULT" || r.Message != "done R3" {
				t.Fatalf("round %d after PING: got %+v", i, r)
			}
		}
	})
}

// TestContract_IDCollisionNotAttributable: a request reusing the id of a
// request still running is refused with an ERROR that carries no id (the
// colliding id is in dup_id), so it cannot be taken for the running
// request's final answer; the running request still gets its own.
func TestContract_IDCollisionNotAttributable(t *testing.T) {
	release := make(gate)
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			if req.Type == "SALE" {
				release.wait(ctx)
			}
			saleHandler(ctx, req, w)
		})})
	addr := serveTCP(t, srv)
	bothEncodings(t, func(t *testing.T, framed bool) {
		p := dialPeer(t, addr, framed)
		p.send(&ecrproto.Message{Type: "SALE", ID: "s1", Lane: "1", Ref: "R1", Amount: ecrproto.Int(100), Currency: "HKD"})
		for _, m := range []*ecrproto.Message{
			{Type: "STATUS", ID: "s1", Lane: "1", Ref: "R1"},
			{Type: "PING", ID: "s1"},
			{Type: "SALE", ID: "s1", Lane: "1", Ref: "R2", Amount: ecrproto.Int(100), Currency: "HKD"},
		} {
			p.send(m)
			r := p.read()
			wantError(t, r, ecrproto.CodeField, "id")
			if r.ID != "" || r.DupID != "s1" {
				t.Fatalf("collision answer %+v: want no id and dup_id s1", r)
			}
			if r.Ref != m.Ref || r.Lane != m.Lane {
				t.Fatalf("collision answer %+v: want the refused request's lane and ref", r)
			}
		}
		release <- struct{}{}
		r := p.readFinal()
		if r.Type != "RESULT" || r.ID != "s1" || r.Status != ecrproto.StatusApproved {
			t.Fatalf("the running SALE's answer: %+v", r)
		}
	})
}

// TestContract_PipelinedPingsAllAnswered: many requests in one write are
// all answered and the connection stays open; PINGs and requests over the
// in-flight limit never close it.
func TestContract_PipelinedPingsAllAnswered(t *testing.T) {
	release := make(gate)
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			release.wait(ctx)
			saleHandler(ctx, req, w)
		})})
	addr := serveTCP(t, srv)
	const n = 300
	bothEncodings(t, func(t *testing.T, framed bool) {
		p := dialPeer(t, addr, framed)
		// Fill the in-flight limit with requests that wait.
		var buf bytes.Buffer
		for i := 0; i < ecrproto.DefaultMaxInFlight; i++ {
			buf.Write(p.encode(&ecrproto.Message{Type: "STATUS", ID: fmt.Sprintf("s%d", i), Lane: "1"}))
		}
		for i := 0; i < n; i++ {
			buf.Write(p.encode(&ecrproto.Message{Type: "PING", ID: fmt.Sprintf("p%d", i)}))
			buf.Write(p.encode(&ecrproto.Message{Type: "STATUS", ID: fmt.Sprintf("x%d", i), Lane: "1"}))
		}
		p.write(buf.Bytes())
		pings, refused := 0, 0
		for pings < n || refused < n {
			r := p.read()
			switch {
			case r.Type == "RESULT" && strings.HasPrefix(r.ID, "p"):
				pings++
			case r.Type == "ERROR" && r.Code == ecrproto.CodeUnavailable && strings.HasPrefix(r.ID, "x"):
				refused++
			default:
				t.Fatalf("unexpected answer %+v", r)
			}
		}
		for i := 0; i < ecrproto.DefaultMaxInFlight; i++ {
			release <- struct{}{}
		}
		for i := 0; i < ecrproto.DefaultMaxInFlight; i++ {
			if r := p.readFinal(); r.Type != "RESULT" || !strings.HasPrefix(r.ID, "s") {
				t.Fatalf("answer %+v, want a waiting STATUS's", r)
			}
		}
		p.send(&ecrproto.Message{Type: "PING", ID: "last"})
		wantResult(t, p.readFinal(), ecrproto.StatusOK)
	})
}

// TestContract_UnusedFieldsIgnored: a field a request type does not use is
// ignored whatever its value (a number where a string belongs, a control
// character, a repeat), as an unknown key is.
func TestContract_UnusedFieldsIgnored(t *testing.T) {
	got := make(chan *ecrproto.Message, 1)
	srv := newServer(t, ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			got <- req
			saleHandler(ctx, req, w)
		})})
	addr := serveTCP(t, srv)
	cases := []struct {
		name, json, frame string
		handled           bool // reaches the handler (not PING)
	}{
		{"PING with bad amount and lane", `{"type":"PING","id":"1","amount":"12.50","lane":7,"status":"NOPE"}`,
			"type=PING\x1cid=1\x1camount=12.50\x1clane=a b\x1cstatus=NOPE", false},
		{"STATUS with amount, currency, receipt", `{"type":"STATUS","id":"2","lane":"1","ref":"R1","amount":-5,"currency":"hk","receipt":"a\u0001b","refund_ref":"has space"}`,
			"type=STATUS\x1cid=2\x1clane=1\x1cref=R1\x1camount=-5\x1ccurrency=hk\x1crefund_ref=has space", true},
		{"SALE with a repeated unused field", `{"type":"SALE","id":"3","lane":"1","ref":"R2","amount":100,"currency":"HKD","code":1,"code":2,"paid_at":[]}`,
			"type=SALE\x1cid=3\x1clane=1\x1cref=R2\x1camount=100\x1ccurrency=HKD\x1ccode=1\x1ccode=2", true},
	}
	bothEncodings(t, func(t *testing.T, framed bool) {
		p := dialPeer(t, addr, framed)
		for _, c := range cases {
			p.sendRaw(c.json, c.frame)
			r := p.readFinal()
			if r.Type != "RESULT" {
				t.Fatalf("%s: got %s %s/%s (%s), want it run", c.name, r.Type, r.Code, r.Field, r.Message)
			}
			if !c.handled {
				continue
			}
			req := <-got
			if req.Amount != nil && req.Type != "SALE" || req.Receipt != "" || req.Currency != "" && req.Type != "SALE" ||
				req.Code != "" || req.RefundRef != "" || req.PaidAt != "" {
				t.Fatalf("%s: the handler saw unused fields: %+v", c.name, req)
			}
		}
		// A used field is still checked.
		p.sendRaw(`{"type":"STATUS","id":"4","lane":"1","ref":"has space"}`, "type=STATUS\x1cid=4\x1clane=1\x1cref=has space")
		wantError(t, p.readFinal(), ecrproto.CodeField, "ref")
	})
}

// TestContract_ClientNeverTakesDupIDForItsRequest: the client does not take
// an ERROR carrying dup_id (and no id) for the answer of its only request
// in flight, as it does an ERROR for undecodable input.
func TestContract_ClientNeverTakesDupIDForItsRequest(t *testing.T) {
	ln, err := ecrproto.Listen(context.Background(), ecrproto.ListenConfig{Address: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		p := &peer{raw: newRaw(t, nc)}
		line, err := p.br.ReadBytes('\n')
		if err != nil {
			return
		}
		req, _ := ecrproto.DecodeJSON(line[:len(line)-1])
		p.write([]byte(`{"type":"ERROR","message":"in use","code":"E_FIELD","field":"id","dup_id":"` + req.ID + `"}` + "\n"))
		p.write([]byte(`{"type":"RESULT","id":"` + req.ID + `","status":"OK"}` + "\n"))
		io.Copy(io.Discard, nc) // until the client closes
	}()
	c := dial(t, "tcp", ln.Addr().String(), nil)
	wantResult(t, do(t, c, &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
}
