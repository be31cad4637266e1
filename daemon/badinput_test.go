package daemon_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// rawConn is a bare TCP connection to the daemon, for input no well-behaved
// client would send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func (e *env) raw(t *testing.T) *rawConn {
	nc, err := net.DialTimeout("tcp", e.ECR, testBound)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := nc.SetDeadline(time.Now().Add(testBound)); err != nil {
		t.Fatal(err)
	}
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (r *rawConn) write(b []byte) {
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// jsonAnswer reads one JSON line and decodes it.
func (r *rawConn) jsonAnswer() *ecrproto.Message {
	line, err := r.br.ReadBytes('\n')
	if err != nil {
		r.t.Fatalf("read answer: %v", err)
	}
	m, err := ecrproto.DecodeJSON(bytes.TrimRight(line, "\r\n"))
	if err != nil {
		r.t.Fatalf("decode %q: %v", line, err)
	}
	return m
}

// frameAnswer reads the next frame (skipping ACKs), acknowledges it and
// decodes it.
func (r *rawConn) frameAnswer() *ecrproto.Message {
	fr := ecrproto.NewFrameReader(r.br, ecrproto.DefaultMaxMessageSize)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			r.t.Fatalf("read frame: %v", err)
		}
		if f.Kind != ecrproto.FrameData {
			continue
		}
		r.write([]byte{ecrproto.ACK})
		m, err := ecrproto.DecodeFields(f.Payload)
		if err != nil {
			r.t.Fatalf("decode frame: %v", err)
		}
		return m
	}
}

func frame(payload string) []byte {
	return ecrproto.AppendFrame(nil, []byte(strings.ReplaceAll(payload, "|", string(ecrproto.FS))))
}

// TestBadInput sends what a broken or hostile ECR might, while a sale runs
// on another lane: each gets its error, the daemon stays up, the sale and
// other lanes are unaffected.
func TestBadInput(t *testing.T) {
	e := startEnv(t, daemonenv.WithDaemon(func(o *daemon.Options) { o.Server.IdleTimeout = 300 * time.Millisecond }))
	running, drop := e.startUntil(false, saleMsg("1", "BI1", 800, code(10, 31)), ecrproto.EventSent)
	defer drop()
	jsonCases := []struct {
		name, in    string
		code, field string
	}{
		{"garbage", "hello there\n", ecrproto.CodeFormat, ""},
		{"broken json", `{"type":"SALE",` + "\n", ecrproto.CodeFormat, ""},
		{"oversize", `{"type":"PING","id":"` + strings.Repeat("x", 70<<10) + "\"}\n", ecrproto.CodeTooLarge, ""},
		{"unknown type", `{"type":"FOO","id":"1"}` + "\n", ecrproto.CodeType, ""},
		{"missing amount", `{"type":"SALE","id":"1","lane":"2","ref":"B1","currency":"HKD"}` + "\n", ecrproto.CodeField, "amount"},
		{"amount as text", `{"type":"SALE","id":"1","lane":"2","ref":"B1","amount":"12.50","currency":"HKD"}` + "\n", "", "amount"},
		{"amount with decimals", `{"type":"SALE","id":"1","lane":"2","ref":"B1","amount":12.5,"currency":"HKD"}` + "\n", "", "amount"},
		{"negative amount", `{"type":"SALE","id":"1","lane":"2","ref":"B1","amount":-5,"currency":"HKD"}` + "\n", "", "amount"},
		{"zero amount", `{"type":"SALE","id":"1","lane":"2","ref":"B1","amount":0,"currency":"HKD"}` + "\n", ecrproto.CodeField, "amount"},
		{"bad currency", `{"type":"SALE","id":"1","lane":"2","ref":"B1","amount":5,"currency":"hkd"}` + "\n", ecrproto.CodeField, "currency"},
		{"missing ref", `{"type":"SALE","id":"1","lane":"2","amount":5,"currency":"HKD"}` + "\n", ecrproto.CodeField, "ref"},
		{"unknown lane", `{"type":"SALE","id":"1","lane":"99","ref":"B1","amount":5,"currency":"HKD"}` + "\n", ecrproto.CodeNotFound, ""},
		{"not an alipay code", `{"type":"SALE","id":"1","lane":"2","ref":"B1","amount":5,"currency":"HKD","barcode":"123"}` + "\n", ecrproto.CodeField, "barcode"},
		{"scan while not waiting", `{"type":"SCAN","id":"1","lane":"3","barcode":"281234567890123400"}` + "\n", ecrproto.CodeNotFound, ""},
		{"status of an unknown ref", `{"type":"STATUS","id":"1","lane":"3","ref":"NOPE"}` + "\n", ecrproto.CodeNotFound, ""},
	}
	for _, c := range jsonCases {
		t.Run(c.name, func(t *testing.T) {
			r := e.raw(t)
			r.write([]byte(c.in))
			m := r.jsonAnswer()
			if m.Type != ecrproto.TypeError || (c.code != "" && m.Code != c.code) || (c.field != "" && m.Field != c.field) {
				t.Fatalf("answer %+v, want ERROR %s %s", m, c.code, c.field)
			}
		})
	}
	t.Run("framed bad LRC gets NAK", func(t *testing.T) {
		r := e.raw(t)
		f := frame("type=PING|id=1")
		f[len(f)-1] ^= 0xFF
		r.write(f)
		b, err := r.br.ReadByte()
		if err != nil || b != ecrproto.NAK {
			t.Fatalf("got %#x, %v; want NAK", b, err)
		}
		r.write(frame("type=PING|id=2"))
		if m := r.frameAnswer(); m.Type != ecrproto.TypeResult || m.ID != "2" {
			t.Fatalf("PING after the NAK: %+v", m)
		}
	})
	t.Run("framed malformed amount", func(t *testing.T) {
		r := e.raw(t)
		r.write(frame("type=SALE|id=7|lane=2|ref=F1|amount=12.50|currency=HKD"))
		if m := r.frameAnswer(); m.Type != ecrproto.TypeError || m.Field != "amount" {
			t.Fatalf("answer %+v", m)
		}
	})
	t.Run("silent client is closed when idle", func(t *testing.T) {
		r := e.raw(t)
		if _, err := r.br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("silent connection: %v, want EOF", err)
		}
	})
	if res := <-running; res == nil || res.Status != ecrproto.StatusApproved {
		t.Fatalf("the sale running meanwhile: %+v", res)
	}
	if res, _ := e.Do(enc(true), saleMsg("4", "BI2", 100, code(0, 32))); res.Status != ecrproto.StatusApproved {
		t.Fatalf("another lane afterwards: %+v", res)
	}
}

// TestWaitingTillNotCutByIdleTimeout: a till waiting on its sale longer
// than the idle timeout keeps its connection and gets its RESULT.
func TestWaitingTillNotCutByIdleTimeout(t *testing.T) {
	e := startEnv(t, daemonenv.WithDaemon(func(o *daemon.Options) { o.Server.IdleTimeout = 100 * time.Millisecond }))
	res, _ := e.Do(enc(false), saleMsg("1", "IT1", 100, code(11, 41))) // lasts until the pay deadline
	if res.Status != ecrproto.StatusCancelled {
		t.Fatalf("RESULT %+v", res)
	}
}
