package ecrproto_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// seedMessages are well-formed requests of every type, for fuzz seeds.
func seedMessages() []*ecrproto.Message {
	return []*ecrproto.Message{
		{Type: "HELLO", ID: "h", Version: "1", Key: "k"},
		{Type: "SALE", ID: "1", Lane: "1", Ref: "R1", Amount: ecrproto.Int(1250), Currency: "HKD", Barcode: "281234567890123400"},
		{Type: "STATUS", ID: "2", Lane: "1", Ref: "R1"},
		{Type: "CANCEL", ID: "3", Lane: "1", Ref: "R1"},
		{Type: "REFUND", ID: "4", Lane: "1", Ref: "R1", RefundRef: "F1", Amount: ecrproto.Int(100), Currency: "HKD"},
		{Type: "SCAN", ID: "5", Lane: "1", Barcode: "281234567890123400"},
		{Type: "ABORT", ID: "6", Lane: "1"},
		{Type: "PRINT", ID: "7", Lane: "1", Receipt: "a\nb"},
		{Type: "DEVICES", ID: "8"},
		{Type: "PING", ID: "9"},
	}
}

func FuzzJSONDecode(f *testing.F) {
	for _, m := range seedMessages() {
		b, _ := ecrproto.AppendJSON(nil, m)
		f.Add(b)
	}
	for _, s := range []string{`{"amount":12.5}`, `{"amount":1e3}`, `{"id":"1","id":"2"}`, `{"a":{"b":[1,{"c":null}]}}`,
		`{"subject":"\u0002"}`, `{"receipt":"\ud800"}`, `[]`, `{`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ecrproto.DecodeJSON(data)
		if m == nil {
			t.Fatal("nil message")
		}
		if err != nil {
			var pe *ecrproto.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		checkRoundTrips(t, m)
	})
}

func FuzzFrameDecode(f *testing.F) {
	for _, m := range seedMessages() {
		b, _ := ecrproto.EncodeFrame(m)
		f.Add(b)
	}
	f.Add([]byte{0x06, 0x15, 0x02, 'a', 0x02, 'b', '=', 'c', 0x03, 0x63})
	f.Add([]byte{0x02, 0x03, 0x03})
	f.Add(append(frame("type=PING"+fs+"id=1"), 0x02, 'x'))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := ecrproto.NewFrameReader(bufio.NewReader(bytes.NewReader(data)), 512)
		for {
			fr, err := r.ReadFrame()
			if err != nil {
				var pe *ecrproto.Error
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ecrproto.ErrBadLRC) || errors.As(err, &pe) {
					if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
						return
					}
					continue
				}
				t.Fatalf("unexpected error %v", err)
			}
			if fr.Kind != ecrproto.FrameData {
				continue
			}
			if len(fr.Payload) > 512 {
				t.Fatalf("payload of %d bytes over the limit", len(fr.Payload))
			}
			if m, err := ecrproto.DecodeFields(fr.Payload); err == nil {
				checkRoundTrips(t, m)
			}
		}
	})
}

// checkRoundTrips checks that a decoded message encodes in both
// encodings and decodes back to the same fields.
func checkRoundTrips(t *testing.T, m *ecrproto.Message) {
	t.Helper()
	j, err := ecrproto.AppendJSON(nil, m)
	if err != nil {
		t.Fatalf("decoded message does not encode as JSON: %v", err)
	}
	p, err := ecrproto.AppendFields(nil, m)
	if err != nil {
		t.Fatalf("decoded message does not encode as a frame: %v", err)
	}
	fromJSON, err := ecrproto.DecodeJSON(j)
	if err != nil {
		t.Fatalf("re-decode JSON %q: %v", j, err)
	}
	fromFrame, err := ecrproto.DecodeFields(p)
	if err != nil && len(p) > 0 {
		t.Fatalf("re-decode frame %q: %v", p, err)
	}
	j2, _ := ecrproto.AppendJSON(nil, fromJSON)
	if !bytes.Equal(j, j2) {
		t.Fatalf("JSON round trip: %s != %s", j, j2)
	}
	if len(p) > 0 {
		j3, _ := ecrproto.AppendJSON(nil, fromFrame)
		if !bytes.Equal(j, j3) {
			t.Fatalf("frame round trip: %s != %s", j, j3)
		}
	}
}

// pipeListener hands net.Pipe server ends to Server.Serve.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// fuzzHandler answers like a daemon would, and panics on ABORT to
// exercise recovery.
func fuzzHandler(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	if req.Type == "ABORT" {
		panic("fuzz panic")
	}
	saleHandler(ctx, req, w)
}

func FuzzServer(f *testing.F) {
	for _, m := range seedMessages() {
		j, _ := ecrproto.AppendJSON(nil, m)
		f.Add(append(j, '\n'))
		fr, _ := ecrproto.EncodeFrame(m)
		f.Add(append(fr, ecrproto.ACK))
	}
	f.Add([]byte(`{"type":"SALE","id":"1","lane":"1","ref":"R","amount":1,"currency":"HKD"}` + "\n" + `{"type":"ABORT","id":"2","lane":"1"}` + "\n"))
	f.Add([]byte("garbage\n" + strings.Repeat("x", 600) + "\n" + `{"type":"PING","id":"1"}` + "\n"))
	f.Add(append(frame(strings.Repeat("y", 600)), frame("type=PING"+fs+"id=1")...))
	f.Add([]byte{0x02, 'a', 0x03, 0x00, 0x15, 0x06})
	f.Fuzz(func(t *testing.T, data []byte) {
		const tick = 10 * time.Millisecond
		srv := ecrproto.NewServer(ecrproto.ServerOptions{Handler: ecrproto.HandlerFunc(fuzzHandler),
			MaxMessageSize: 512, ReadTimeout: tick, IdleTimeout: tick, WriteTimeout: 10 * tick,
			AckTimeout: tick / 5, MaxRetransmits: 1})
		ln := newPipeListener()
		serveErr := make(chan error, 1)
		go func() { serveErr <- srv.Serve(ln) }()
		client, server := net.Pipe()
		defer client.Close()
		ln.conns <- server
		drained := make(chan struct{})
		go func() { io.Copy(io.Discard, client); close(drained) }() // answers; ends when the server hangs up
		client.SetWriteDeadline(time.Now().Add(time.Second))
		client.Write(data)

		// The server must close the connection by itself (idle, read
		// timeout, dead link or error) once it has answered everything.
		select {
		case <-drained:
		case <-time.After(5 * time.Second):
			t.Fatal("server never closed the connection")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatalf("server hung: Shutdown: %v", err)
		}
		if err := <-serveErr; !errors.Is(err, ecrproto.ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
	})
}
