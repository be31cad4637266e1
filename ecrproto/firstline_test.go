package ecrproto_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// recorder is a handler that records every request it is given and
// answers OK.
type recorder struct {
	mu   sync.Mutex
	reqs []string
	seen chan string // each request's type/id, as it arrives
}

func newRecorder() *recorder { return &recorder{seen: make(chan string, 1024)} }

func (r *recorder) ServeECR(_ context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Type+"/"+req.ID)
	r.mu.Unlock()
	select {
	case r.seen <- req.Type + "/" + req.ID:
	default:
	}
	w.Send(&ecrproto.Message{Type: "RESULT", Status: ecrproto.StatusOK})
}

// only waits until sentinel (type/id) reached the handler, which a test
// sends after the input under test was refused, and fails the test if any
// other request reached it.
func (r *recorder) only(t *testing.T, c *ecrproto.Client, sentinel *ecrproto.Message) {
	t.Helper()
	wantResult(t, do(t, c, sentinel), ecrproto.StatusOK)
	r.mu.Lock()
	defer r.mu.Unlock()
	want := sentinel.Type + "/" + sentinel.ID
	if len(r.reqs) != 1 || r.reqs[0] != want {
		t.Fatalf("the handler ran %q; want only the sentinel %q", r.reqs, want)
	}
	r.reqs = nil
}

// jsonRequests are lines a web page would put in a text/plain body to
// move money or print through the ECR port.
const jsonRequests = `{"type":"CANCEL","id":"c1","lane":"1","ref":"R1"}` + "\n" +
	`{"type":"REFUND","id":"r1","lane":"1","ref":"R1","refund_ref":"F1","amount":100,"currency":"HKD"}` + "\n" +
	`{"type":"PRINT","id":"p1","lane":"1","receipt":"pwned"}` + "\n"

// expectClosedSilently waits for the server to close the connection and
// fails the test if it sent anything first.
func (r *raw) expectClosedSilently() {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(guard))
	b, err := io.ReadAll(r.br)
	if len(b) > 0 {
		r.t.Fatalf("server answered %q before closing; want nothing", b)
	}
	if isTimeoutErr(err) {
		r.t.Fatalf("connection still open after %v", guard)
	}
}

func isTimeoutErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestFirstLine_HTTPPostRunsNothing: a browser on the till (any web page)
// can POST to the loopback ECR port. Its request line closes the
// connection; the JSON lines of its body never reach the handler.
func TestFirstLine_HTTPPostRunsNothing(t *testing.T) {
	rec := newRecorder()
	srv := newServer(t, ecrproto.ServerOptions{Handler: rec})
	addr := serveTCP(t, srv)

	hc := &http.Client{Timeout: guard}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json"} {
		resp, err := hc.Post("http://"+addr+"/", ct, strings.NewReader(jsonRequests))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Fatalf("%s: the ECR port answered an HTTP POST: %s %q", ct, resp.Status, b)
		}
	}
	rec.only(t, dial(t, "tcp", addr, nil), &ecrproto.Message{Type: "STATUS", ID: "sentinel", Lane: "1"})
}

// TestFirstLine_HTTPLinesCloseSilently: any HTTP request line or header
// line before the first valid request closes the connection with no
// answer, and nothing after it runs.
func TestFirstLine_HTTPLinesCloseSilently(t *testing.T) {
	rec := newRecorder()
	srv := newServer(t, ecrproto.ServerOptions{Handler: rec})
	addr := serveTCP(t, srv)
	lines := []string{"GET / HTTP/1.1\r\n", "POST /pay HTTP/1.1\r\n", "PUT / HTTP/1.1\r\n",
		"DELETE / HTTP/1.0\n", "OPTIONS * HTTP/1.1\r\n", "HEAD / HTTP/1.1\r\n", "PATCH / HTTP/1.1\r\n",
		"CONNECT 127.0.0.1:7420 HTTP/1.1\r\n", "TRACE / HTTP/1.1\r\n", "PRI * HTTP/2.0\r\n",
		"get /lower HTTP/1.1\r\n", "Host: 127.0.0.1:7420\r\n", "Content-Type: text/plain\r\n",
		"X-Requested-With: XMLHttpRequest\r\n", "\r\nOrigin: http://evil.example\r\n"}
	for _, line := range lines {
		p := dialRaw(t, "tcp", addr)
		p.write([]byte(line + jsonRequests))
		p.expectClosedSilently()
	}
	rec.only(t, dial(t, "tcp", addr, nil), &ecrproto.Message{Type: "STATUS", ID: "sentinel", Lane: "1"})
}

// TestFirstLine_GarbageCloses: an undecodable first message is answered
// E_FORMAT without echoing anything, and the connection closes before
// anything after it runs. Decodable but invalid first requests keep
// today's answers (TestBadInput covers bad input after a valid request).
func TestFirstLine_GarbageCloses(t *testing.T) {
	rec := newRecorder()
	srv := newServer(t, ecrproto.ServerOptions{Handler: rec})
	addr := serveTCP(t, srv)

	for _, first := range []string{"hello world\n", "\xff\xfe\x00\x01\n", `{"type":"CANCEL","id":"x",` + "\n", "[1,2]\n"} {
		p := dialRaw(t, "tcp", addr)
		p.write([]byte(first + jsonRequests))
		r := p.readJSON()
		wantError(t, r, ecrproto.CodeFormat, "")
		if r.ID != "" || r.Lane != "" || r.Ref != "" {
			t.Errorf("%q: the answer echoes %+v", first, r)
		}
		p.expectClosed()
	}

	p := dialRaw(t, "tcp", addr) // framed: a frame that is not name=value fields
	p.write(append(frame("hello world"), frame("type=CANCEL"+fs+"id=c2"+fs+"lane=1"+fs+"ref=R1")...))
	p.expectControl(ecrproto.FrameACK)
	for { // the frames after it may be ACKed (received), never run
		f := p.readItem()
		if f.Kind == ecrproto.FrameACK {
			continue
		}
		m, err := ecrproto.DecodeFields(f.Payload)
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, m, ecrproto.CodeFormat, "")
		break
	}
	p.write([]byte{ecrproto.ACK})
	p.expectClosed()

	rec.only(t, dial(t, "tcp", addr, nil), &ecrproto.Message{Type: "STATUS", ID: "sentinel", Lane: "1"})
}

// TestFirstLine_RulesEndAtFirstValidRequest: after a valid request, an
// HTTP-looking or undecodable line is bad input like any other: answered
// E_FORMAT, and the connection stays.
func TestFirstLine_RulesEndAtFirstValidRequest(t *testing.T) {
	rec := newRecorder()
	srv := newServer(t, ecrproto.ServerOptions{Handler: rec})
	p := dialRaw(t, "tcp", serveTCP(t, srv))
	p.write([]byte(`{"type":"STATUS","id":"s1","lane":"1"}` + "\n"))
	wantResult(t, p.readJSON(), ecrproto.StatusOK)
	for _, line := range []string{"GET / HTTP/1.1\n", "Host: x\n", "hello world\n"} {
		p.write([]byte(line))
		wantError(t, p.readJSON(), ecrproto.CodeFormat, "")
	}
	p.write([]byte(`{"type":"STATUS","id":"s2","lane":"1"}` + "\n"))
	wantResult(t, p.readJSON(), ecrproto.StatusOK)

	// A decodable but invalid first request is answered and keeps the
	// connection too.
	p = dialRaw(t, "tcp", serveTCP(t, srv))
	p.write([]byte(`{"type":"STATUS","id":"s3"}` + "\n"))
	wantError(t, p.readJSON(), ecrproto.CodeField, "lane")
	p.write([]byte(`{"type":"PING","id":"after"}` + "\n"))
	wantResult(t, p.readJSON(), ecrproto.StatusOK)
}
