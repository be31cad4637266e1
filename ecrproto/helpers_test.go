package ecrproto_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// guard bounds every blocking step of a test so a bug hangs nothing; it
// is never what a test asserts.
const guard = 10 * time.Second

// testLogger sends server logs to the test log until the test ends
// (server goroutines may outlive it by a moment).
func testLogger(t *testing.T) *slog.Logger {
	w := &tlogWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *tlogWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(b), "\n"))
	}
	return len(b), nil
}

// newServer returns a server closed at the end of the test.
func newServer(t *testing.T, opts ecrproto.ServerOptions) *ecrproto.Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	srv := ecrproto.NewServer(opts)
	t.Cleanup(func() { srv.Close() })
	return srv
}

// serve listens with cfg, serves in the background and returns the
// address to dial. serveErr receives Serve's result.
func serve(t *testing.T, srv *ecrproto.Server, cfg ecrproto.ListenConfig) (addr string, serveErr <-chan error) {
	t.Helper()
	ln, err := ecrproto.Listen(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	return ln.Addr().String(), errc
}

func serveTCP(t *testing.T, srv *ecrproto.Server) string {
	addr, _ := serve(t, srv, ecrproto.ListenConfig{Address: "127.0.0.1:0"})
	return addr
}

func serveUnix(t *testing.T, srv *ecrproto.Server) string {
	path := filepath.Join(t.TempDir(), "ecr.sock")
	serve(t, srv, ecrproto.ListenConfig{Network: "unix", Address: path})
	return path
}

// transports runs f once over loopback TCP and once over a unix socket.
func transports(t *testing.T, f func(t *testing.T, network string, srv *ecrproto.Server, addr string, opts ecrproto.ServerOptions)) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			opts := ecrproto.ServerOptions{}
			srv := newServer(t, opts)
			addr := serveTCP
			if network == "unix" {
				addr = serveUnix
			}
			f(t, network, srv, addr(t, srv), opts)
		})
	}
}

func dial(t *testing.T, network, addr string, opts *ecrproto.ClientOptions) *ecrproto.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	c, err := ecrproto.Dial(ctx, network, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

// do runs a request and fails the test on a transport error.
func do(t *testing.T, c *ecrproto.Client, m *ecrproto.Message) *ecrproto.Message {
	t.Helper()
	r, err := c.Do(ctxT(t), m)
	if err != nil {
		t.Fatalf("%s: %v", m.Type, err)
	}
	return r
}

func wantResult(t *testing.T, r *ecrproto.Message, status string) {
	t.Helper()
	if r.Type != "RESULT" || r.Status != status {
		t.Fatalf("got %s %s %s %s (%s), want RESULT %s", r.Type, r.Status, r.Code, r.Field, r.Message, status)
	}
}

func wantError(t *testing.T, r *ecrproto.Message, code, field string) {
	t.Helper()
	if r.Type != "ERROR" || r.Code != code || r.Field != field {
		t.Fatalf("got %s %s %s/%q (%s), want ERROR %s/%q", r.Type, r.Status, r.Code, r.Field, r.Message, code, field)
	}
}

// raw is a peer that speaks bytes, for bad input and link tests.
type raw struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
	fr *ecrproto.FrameReader
}

func dialRaw(t *testing.T, network, addr string) *raw {
	t.Helper()
	c, err := ecrproto.DialConn(ctxT(t), network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newRaw(t, c)
}

func newRaw(t *testing.T, c net.Conn) *raw {
	br := bufio.NewReader(c)
	return &raw{t: t, c: c, br: br, fr: ecrproto.NewFrameReader(br, 0)}
}

func (r *raw) write(b []byte) {
	r.t.Helper()
	r.c.SetWriteDeadline(time.Now().Add(guard))
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

func (r *raw) writeFrame(m *ecrproto.Message) {
	r.t.Helper()
	b, err := ecrproto.EncodeFrame(m)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(b)
}

// readJSON reads one JSON line from the server.
func (r *raw) readJSON() *ecrproto.Message {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(guard))
	line, err := r.br.ReadBytes('\n')
	if err != nil {
		r.t.Fatalf("read line: %v (got %q)", err, line)
	}
	m, err := ecrproto.DecodeJSON(line[:len(line)-1])
	if err != nil {
		r.t.Fatalf("server sent undecodable %q: %v", line, err)
	}
	return m
}

// readItem reads one framed item from the server.
func (r *raw) readItem() ecrproto.Frame {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(guard))
	f, err := r.fr.ReadFrame()
	if err != nil {
		r.t.Fatalf("read frame: %v", err)
	}
	return f
}

func (r *raw) expectControl(kind ecrproto.FrameKind) {
	r.t.Helper()
	if f := r.readItem(); f.Kind != kind {
		r.t.Fatalf("got item kind %v (%q), want %v", f.Kind, f.Payload, kind)
	}
}

// readFrameMsg reads the next frame (skipping nothing) and ACKs it.
func (r *raw) readFrameMsg() *ecrproto.Message {
	r.t.Helper()
	f := r.readItem()
	if f.Kind != ecrproto.FrameData {
		r.t.Fatalf("got item kind %v, want a frame", f.Kind)
	}
	m, err := ecrproto.DecodeFields(f.Payload)
	if err != nil {
		r.t.Fatalf("server sent undecodable frame %q: %v", f.Payload, err)
	}
	r.write([]byte{ecrproto.ACK})
	return m
}

// expectClosed waits for the server to close the connection.
func (r *raw) expectClosed() {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(guard))
	b, err := io.ReadAll(r.br)
	if errors.Is(err, io.EOF) || err == nil {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatalf("connection still open after %v (read %q)", guard, b)
	}
}

// gate is a handler step the test releases.
type gate chan struct{}

func (g gate) wait(ctx context.Context) error {
	select {
	case <-g:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
