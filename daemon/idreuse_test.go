package daemon_test

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// wirePeer is an ECR written from the protocol document alone: raw bytes
// on a socket, in JSON lines or frames (ACKing every frame it receives and
// waiting for the ACK of every frame it sends).
type wirePeer struct {
	t      *testing.T
	c      net.Conn
	br     *bufio.Reader
	fr     *ecrproto.FrameReader
	framed bool
}

func dialWirePeer(t *testing.T, addr string, framed bool) *wirePeer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	br := bufio.NewReader(c)
	return &wirePeer{t: t, c: c, br: br, fr: ecrproto.NewFrameReader(br, 0), framed: framed}
}

// send writes m; framed, it waits for the daemon's ACK.
func (p *wirePeer) send(m *ecrproto.Message) {
	p.t.Helper()
	var b []byte
	var err error
	if p.framed {
		b, err = ecrproto.EncodeFrame(m)
	} else {
		b, err = ecrproto.AppendJSON(nil, m)
		b = append(b, '\n')
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.c.SetDeadline(time.Now().Add(testBound))
	if _, err := p.c.Write(b); err != nil {
		p.t.Fatal(err)
	}
	if !p.framed {
		return
	}
	f, err := p.fr.ReadFrame()
	if err != nil || f.Kind != ecrproto.FrameACK {
		p.t.Fatalf("after a frame: %v %v, want ACK", f.Kind, err)
	}
}

// read returns the daemon's next message.
func (p *wirePeer) read() *ecrproto.Message {
	p.t.Helper()
	p.c.SetDeadline(time.Now().Add(testBound))
	if !p.framed {
		line, err := p.br.ReadBytes('\n')
		if err != nil {
			p.t.Fatalf("read: %v", err)
		}
		m, err := ecrproto.DecodeJSON(line[:len(line)-1])
		if err != nil {
			p.t.Fatal(err)
		}
		return m
	}
	for {
		f, err := p.fr.ReadFrame()
		if err != nil {
			p.t.Fatalf("read: %v", err)
		}
		if f.Kind != ecrproto.FrameData {
			continue
		}
		if _, err := p.c.Write([]byte{ecrproto.ACK}); err != nil {
			p.t.Fatal(err)
		}
		m, err := ecrproto.DecodeFields(f.Payload)
		if err != nil {
			p.t.Fatal(err)
		}
		return m
	}
}

// final returns the next RESULT or ERROR.
func (p *wirePeer) final() *ecrproto.Message {
	p.t.Helper()
	for {
		if m := p.read(); m.IsFinal() {
			return m
		}
	}
}

// TestECRIDReuse runs the id rules of docs/ecr-protocol.md section 2.2
// against the daemon, in both encodings: an id is usable again as soon as
// its final answer arrived, and a request colliding with a running SALE's
// id gets an ERROR without id (dup_id) that a client cannot take for the
// SALE's answer; the SALE still gets its own RESULT.
func TestECRIDReuse(t *testing.T) {
	e := startEnv(t, daemonenv.Lanes(2))
	for lane, framed := range map[string]bool{"1": false, "2": true} {
		t.Run(encName(framed), func(t *testing.T) {
			p := dialWirePeer(t, e.ECR, framed)
			for i := 0; i < 100; i++ {
				ref := fmt.Sprintf("NOPE%d", i%2) // alternate content: a stale id would be refused or dropped
				p.send(&ecrproto.Message{Type: "STATUS", ID: "x", Lane: lane, Ref: ref})
				r := p.final()
				if r.Type != "ERROR" || r.Code != ecrproto.CodeNotFound || r.ID != "x" || r.Ref != ref {
					t.Fatalf("round %d: %+v, want E_NOT_FOUND for the reused id", i, r)
				}
				p.send(&ecrproto.Message{Type: "PING", ID: "x"})
				if r := p.final(); r.Type != "RESULT" || r.ID != "x" {
					t.Fatalf("round %d: PING with the reused id: %+v", i, r)
				}
			}
			ref := "ID" + lane
			p.send(&ecrproto.Message{Type: "SALE", ID: "s", Lane: lane, Ref: ref, Amount: ecrproto.Int(100), Currency: "HKD"})
			if m := p.read(); m.Event != ecrproto.EventWaitScan {
				t.Fatalf("first answer %+v, want WAIT_SCAN", m)
			}
			p.send(&ecrproto.Message{Type: "STATUS", ID: "s", Lane: lane, Ref: ref})
			r := p.final()
			if r.Type != "ERROR" || r.Code != ecrproto.CodeField || r.Field != "id" || r.ID != "" || r.DupID != "s" {
				t.Fatalf("collision answer %+v: want E_FIELD id, no id, dup_id s", r)
			}
			p.send(&ecrproto.Message{Type: "SCAN", ID: "scan", Lane: lane, Barcode: code(0, 900)})
			got := map[string]*ecrproto.Message{}
			for len(got) < 2 {
				m := p.final()
				got[m.ID] = m
			}
			if got["scan"].Status != ecrproto.StatusOK || got["s"].Status != ecrproto.StatusApproved {
				t.Fatalf("SCAN %+v, SALE %+v", got["scan"], got["s"])
			}
			p.send(&ecrproto.Message{Type: "STATUS", ID: "s", Lane: lane, Ref: ref}) // free again
			if r := p.final(); r.ID != "s" || r.Status != ecrproto.StatusApproved {
				t.Fatalf("STATUS with the SALE's id after its RESULT: %+v", r)
			}
		})
	}
}
