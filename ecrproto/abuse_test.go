package ecrproto_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// logCapture is a slog handler that keeps every record's text and counts
// records by level.
type logCapture struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	byLevel map[slog.Level]int
}

func captureLogs() (*slog.Logger, *logCapture) {
	c := &logCapture{byLevel: map[slog.Level]int{}}
	return slog.New(c), c
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs(as []slog.Attr) slog.Handler    { return &boundCapture{c, as} }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	return c.handle(r, nil)
}

func (c *logCapture) handle(r slog.Record, bound []slog.Attr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byLevel[r.Level]++
	h := slog.NewTextHandler(&c.buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	return h.WithAttrs(bound).Handle(context.Background(), r)
}

// atLeast counts the records at level or above.
func (c *logCapture) atLeast(level slog.Level) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for l, k := range c.byLevel {
		if l >= level {
			n += k
		}
	}
	return n
}

func (c *logCapture) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

type boundCapture struct {
	c     *logCapture
	attrs []slog.Attr
}

func (b *boundCapture) Enabled(context.Context, slog.Level) bool { return true }
func (b *boundCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return &boundCapture{b.c, append(append([]slog.Attr{}, b.attrs...), as...)}
}
func (b *boundCapture) WithGroup(string) slog.Handler { return b }
func (b *boundCapture) Handle(_ context.Context, r slog.Record) error {
	return b.c.handle(r, b.attrs)
}

// TestEcho_LongValuesCut: a 10 KB unknown type with 10 KB id, lane and ref
// is answered E_TYPE echoing at most MaxEcho bytes of each, and the log
// holds no more of them either — as the first message and after a valid
// one, in both encodings.
func TestEcho_LongValuesCut(t *testing.T) {
	logger, logs := captureLogs()
	srv := newServer(t, ecrproto.ServerOptions{Logger: logger, Handler: ecrproto.HandlerFunc(saleHandler)})
	addr := serveTCP(t, srv)
	long := func(c string) string { return strings.Repeat(c, 10<<10) }
	bad := &ecrproto.Message{Type: long("T"), ID: long("i"), Lane: long("l"), Ref: long("r")}
	check := func(r *ecrproto.Message) {
		t.Helper()
		wantError(t, r, ecrproto.CodeType, "")
		for name, v := range map[string]string{"id": r.ID, "lane": r.Lane, "ref": r.Ref, "message": r.Message} {
			if len(v) > ecrproto.MaxEcho {
				t.Errorf("%s echoed with %d bytes, want at most %d", name, len(v), ecrproto.MaxEcho)
			}
		}
		if !strings.HasSuffix(r.ID, ecrproto.EchoMarker) {
			t.Errorf("cut id …%q does not end in the marker", r.ID[max(0, len(r.ID)-16):])
		}
	}
	line, err := ecrproto.AppendJSON(nil, bad)
	if err != nil {
		t.Fatal(err)
	}
	for _, first := range []bool{true, false} {
		p := dialRaw(t, "tcp", addr)
		if !first {
			p.write([]byte(`{"type":"PING","id":"p"}` + "\n"))
			wantResult(t, p.readJSON(), ecrproto.StatusOK)
		}
		p.write(append(line, '\n'))
		check(p.readJSON())

		f := dialRaw(t, "tcp", addr)
		f.writeFrame(bad)
		f.expectControl(ecrproto.FrameACK)
		check(f.readFrameMsg())
	}
	for _, c := range []string{"T", "i", "l", "r"} {
		if strings.Contains(logs.text(), strings.Repeat(c, ecrproto.MaxEcho+1)) {
			t.Errorf("the log holds more than %d bytes of a client's value (%q…)", ecrproto.MaxEcho, c)
		}
	}
}

// TestLog_FloodIsRateLimited: bad lines, undecodable first lines, HTTP
// requests and failed HELLOs by the thousand leave one warning per peer
// (the rest go to debug level), so they cannot rotate the log away.
func TestLog_FloodIsRateLimited(t *testing.T) {
	logger, logs := captureLogs()
	srv := newServer(t, ecrproto.ServerOptions{Logger: logger, AuthDelay: -1, LogInterval: time.Hour,
		Handler: ecrproto.HandlerFunc(saleHandler)})
	addr := serveTCP(t, srv)
	remote := serveRemote(t, srv, "127.0.0.2", ecrproto.RemoteOptions{MaxConnsPerPeer: 64})

	for range 4 { // a valid request, then 400 bad lines, in batches
		p := dialRaw(t, "tcp", addr)
		p.write([]byte(`{"type":"PING","id":"p"}` + "\n"))
		wantResult(t, p.readJSON(), ecrproto.StatusOK)
		for range 20 {
			p.write([]byte(strings.Repeat("junk junk junk\n"+`{"type":"NOPE","id":"x"}`+"\n", 10)))
			for range 20 {
				if r := p.readJSON(); r.Type != "ERROR" {
					t.Fatalf("answer to junk: %+v", r)
				}
			}
		}
	}
	for range 50 {
		dialRaw(t, "tcp", addr).write([]byte("junk\n"))
		dialRaw(t, "tcp", addr).write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		p := dialRaw(t, "tcp", remote)
		wantError(t, p.hello("wrong-key-wrong-key"), ecrproto.CodeAuth, "")
		p.expectClosed()
	}
	// Every event above came from 127.0.0.1: one warning at most.
	if n := logs.atLeast(slog.LevelInfo); n > 1 {
		text := logs.text()
		t.Fatalf("%d log records at INFO or above for one flooding peer, want at most 1:\n%s", n, text[:min(len(text), 4000)])
	}
	if n := logs.atLeast(slog.LevelDebug); n < 1000 {
		t.Fatalf("only %d debug records: the flood was not read", n)
	}
}

// smallBuffers wraps a listener so each accepted TCP connection has a
// small send buffer: a peer that does not read fills it quickly.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

// TestSlowReaders_Disconnected: 64 clients send requests with large
// answers and never read. Each connection's waiting answers stay within
// MaxOutput: the server disconnects each of them (Send fails with
// ErrSlowReader) instead of buffering without limit. The write timeout is
// off, so only the bound can do it.
func TestSlowReaders_Disconnected(t *testing.T) {
	const clients, requests, answer, bound = 64, 8, 30 << 10, 64 << 10
	var mu sync.Mutex
	slow := map[uint64]bool{}
	done := make(chan struct{})
	srv := newServer(t, ecrproto.ServerOptions{MaxConns: 2 * clients, MaxOutput: bound, WriteTimeout: -1,
		Handler: ecrproto.HandlerFunc(func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			err := w.Send(&ecrproto.Message{Type: "RESULT", Status: ecrproto.StatusOK, Receipt: strings.Repeat("r", answer)})
			if !errors.Is(err, ecrproto.ErrSlowReader) {
				return
			}
			<-ctx.Done() // the connection is closed
			mu.Lock()
			defer mu.Unlock()
			if !slow[w.ConnID()] {
				slow[w.ConnID()] = true
				if len(slow) == clients {
					close(done)
				}
			}
		})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(smallBuffers{ln})

	var req []byte
	for i := range requests {
		req = append(req, `{"type":"STATUS","id":"s`+string(rune('a'+i))+`","lane":"1"}`+"\n"...)
	}
	for range clients {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.(*net.TCPConn).SetReadBuffer(4 << 10)
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-ctxT(t).Done():
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("only %d of %d clients that never read were disconnected", len(slow), clients)
	}
}
