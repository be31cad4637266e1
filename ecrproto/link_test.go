package ecrproto_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// fakePeer accepts one connection on loopback and hands it to the test as
// a raw peer; the client under test dials addr.
func fakePeer(t *testing.T) (addr string, peer <-chan *raw) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan *raw, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		t.Cleanup(func() { c.Close() })
		ch <- newRaw(t, c)
	}()
	return ln.Addr().String(), ch
}

// framedClient dials a framed client. ack is its ACK timeout: short where a
// test relies on the timeout firing, long (idle) where the peer answers, so
// a loaded machine never adds a spurious retransmission to the stream.
func framedClient(t *testing.T, addr string, retransmits int, ack time.Duration) *ecrproto.Client {
	return dial(t, "tcp", addr, &ecrproto.ClientOptions{Framed: true, AckTimeout: ack, MaxRetransmits: retransmits})
}

// readRequest reads the next frame from the client without acknowledging.
func (r *raw) readRequest() *ecrproto.Message {
	r.t.Helper()
	f := r.readItem()
	if f.Kind != ecrproto.FrameData {
		r.t.Fatalf("got kind %v, want a frame", f.Kind)
	}
	m, err := ecrproto.DecodeFields(f.Payload)
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

func TestClient_RetransmitsOnNAK(t *testing.T) {
	addr, peers := fakePeer(t)
	c := framedClient(t, addr, 3, idle)
	res := make(chan *ecrproto.Message, 1)
	go func() { r, _ := c.Ping(context.Background()); res <- r }()
	p := <-peers
	first := p.readRequest()
	p.write([]byte{ecrproto.NAK})
	again := p.readRequest()
	if again.ID != first.ID || again.Type != "PING" {
		t.Fatalf("retransmission %+v differs from %+v", again, first)
	}
	p.write([]byte{ecrproto.ACK})
	p.writeFrame(&ecrproto.Message{Type: "RESULT", ID: first.ID, Status: "OK"})
	p.expectControl(ecrproto.FrameACK) // the client acknowledges the answer
	wantResult(t, <-res, "OK")
}

func TestClient_RetransmitsOnMissingACK(t *testing.T) {
	addr, peers := fakePeer(t)
	c := framedClient(t, addr, 3, 4*short)
	res := make(chan *ecrproto.Message, 1)
	go func() { r, _ := c.Ping(context.Background()); res <- r }()
	p := <-peers
	first := p.readRequest() // and stay silent: no ACK
	if again := p.readRequest(); again.ID != first.ID {
		t.Fatalf("retransmission %+v", again)
	}
	p.write([]byte{ecrproto.ACK})
	p.writeFrame(&ecrproto.Message{Type: "RESULT", ID: first.ID, Status: "OK"})
	wantResult(t, <-res, "OK")
}

func TestClient_GivesUpAfterRetransmits(t *testing.T) {
	addr, peers := fakePeer(t)
	c := framedClient(t, addr, 2, short)
	res := make(chan error, 1)
	go func() { _, err := c.Ping(context.Background()); res <- err }()
	p := <-peers
	for i := 0; i < 3; i++ { // 1 + 2 retransmissions, never acknowledged
		p.readRequest()
		if i == 0 {
			p.write([]byte{ecrproto.NAK})
		}
	}
	err := <-res
	var le *ecrproto.LinkError
	if !errors.As(err, &le) || le.Attempts != 3 || !errors.Is(err, ecrproto.ErrNoAck) {
		t.Fatalf("err = %v, want LinkError after 3 attempts", err)
	}
}

func TestClient_NAKsDamagedFrame(t *testing.T) {
	addr, peers := fakePeer(t)
	c := framedClient(t, addr, 3, idle)
	res := make(chan *ecrproto.Message, 1)
	go func() { r, _ := c.Ping(context.Background()); res <- r }()
	p := <-peers
	req := p.readRequest()
	p.write([]byte{ecrproto.ACK})
	good, _ := ecrproto.EncodeFrame(&ecrproto.Message{Type: "RESULT", ID: req.ID, Status: "OK"})
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0x01
	p.write(bad)
	p.expectControl(ecrproto.FrameNAK)
	p.write(good)
	p.expectControl(ecrproto.FrameACK)
	wantResult(t, <-res, "OK")
}

func TestServer_RetransmitsAndDropsDeadLink(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{AckTimeout: short, MaxRetransmits: 3})
	p := dialRaw(t, "tcp", serveTCP(t, srv))
	p.writeFrame(&ecrproto.Message{Type: "PING", ID: "p1"})
	p.expectControl(ecrproto.FrameACK)
	for i := 0; i < 4; i++ { // the answer, sent 1 + 3 times, never acknowledged
		if m := p.readRequest(); m.ID != "p1" || m.Type != "RESULT" {
			t.Fatalf("transmission %d: %+v", i, m)
		}
	}
	p.expectClosed()
}

func TestServer_RetransmitsOnNAK(t *testing.T) {
	srv := newServer(t, ecrproto.ServerOptions{AckTimeout: guard})
	p := dialRaw(t, "tcp", serveTCP(t, srv))
	p.writeFrame(&ecrproto.Message{Type: "PING", ID: "p1"})
	p.expectControl(ecrproto.FrameACK)
	p.readRequest()
	p.write([]byte{ecrproto.NAK})
	if m := p.readFrameMsg(); m.ID != "p1" { // retransmitted at once, then ACKed
		t.Fatalf("retransmission %+v", m)
	}
	p.writeFrame(&ecrproto.Message{Type: "PING", ID: "p2"})
	p.expectControl(ecrproto.FrameACK)
	if m := p.readFrameMsg(); m.ID != "p2" {
		t.Fatalf("link not usable after NAK: %+v", m)
	}
}
