package escpos

import (
	"bytes"
	"net"
	"sync"
	"testing"

	"github.com/tillbridge/tillbridge/devices"
)

// tcpPrinter is a raw-9100 printer on a loopback listener: it records the
// bytes it receives, answers DLE EOT n from a scriptable status, and can
// drop its connections and listener and come back on the same address.
type tcpPrinter struct {
	t    *testing.T
	addr string

	mu      sync.Mutex
	ln      net.Listener
	conns   []net.Conn
	status  devices.PrinterStatus
	silent  bool
	data    bytes.Buffer
	accepts int
	wg      sync.WaitGroup
}

func newTCPPrinter(t *testing.T) *tcpPrinter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpPrinter{t: t, addr: ln.Addr().String(), status: devices.PrinterStatus{Known: true, Online: true}}
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *tcpPrinter) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.accepts++
			p.mu.Unlock()
			p.wg.Add(1)
			go p.handle(c)
		}
	}()
}

// handle parses the byte stream: DLE EOT n is answered, the rest recorded.
func (p *tcpPrinter) handle(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	buf := make([]byte, 4096)
	var pend []byte
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		pend = append(pend, buf[:n]...)
		for len(pend) > 0 {
			if pend[0] == DLE {
				if len(pend) < 3 {
					break
				}
				if pend[1] == EOT {
					p.answer(c, int(pend[2]))
					pend = pend[3:]
					continue
				}
			}
			p.mu.Lock()
			p.data.WriteByte(pend[0])
			p.mu.Unlock()
			pend = pend[1:]
		}
	}
}

func (p *tcpPrinter) answer(c net.Conn, n int) {
	p.mu.Lock()
	st, silent := p.status, p.silent
	p.mu.Unlock()
	if !silent {
		_, _ = c.Write([]byte{EncodeStatus(n, st)})
	}
}

func (p *tcpPrinter) setStatus(st devices.PrinterStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = st
}

func (p *tcpPrinter) setSilent(s bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = s
}

// received returns and clears the recorded print bytes.
func (p *tcpPrinter) received() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := bytes.Clone(p.data.Bytes())
	p.data.Reset()
	return b
}

func (p *tcpPrinter) acceptCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepts
}

// down closes the listener and every connection, like a power-off.
func (p *tcpPrinter) down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// up listens again on the same address, like a power-on.
func (p *tcpPrinter) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("relisten on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
