//go:build usbe2e

package e2e

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
)

// fakePrinter is the printer's firmware on the gadget side of
// /dev/g_printer0: it records every job byte received over bulk OUT and
// answers real-time status requests (DLE EOT n) over bulk IN from a
// scriptable status, as an ESC/POS printer does.
type fakePrinter struct {
	f *os.File

	mu      sync.Mutex
	status  devices.PrinterStatus
	job     []byte
	answers int
	state   int // DLE EOT parser: 0 text, 1 after DLE, 2 after DLE EOT
	changed chan struct{}
	done    chan struct{}
	stopped sync.Once
}

// startFakePrinter opens /dev/g_printer0 and serves it until stop.
func startFakePrinter() (*fakePrinter, error) {
	f, err := os.OpenFile("/dev/g_printer0", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	p := &fakePrinter{f: f, status: devices.PrinterStatus{Known: true, Online: true},
		changed: make(chan struct{}, 1), done: make(chan struct{})}
	go p.serve()
	return p, nil
}

// serve reads until the file is closed. Reads fail while the gadget is
// unplugged; it retries until replugged.
func (p *fakePrinter) serve() {
	defer close(p.done)
	buf := make([]byte, 4096)
	for {
		n, err := p.f.Read(buf)
		if n > 0 {
			p.process(buf[:n])
		}
		if errors.Is(err, os.ErrClosed) {
			return
		}
		if err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// process splits received bytes into job data and status requests.
func (p *fakePrinter) process(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range b {
		switch {
		case p.state == 0 && c == escpos.DLE:
			p.state = 1
		case p.state == 1 && c == escpos.EOT:
			p.state = 2
		case p.state == 1:
			p.job, p.state = append(p.job, escpos.DLE, c), 0
		case p.state == 2 && c >= 1 && c <= 4:
			_, _ = p.f.Write([]byte{escpos.EncodeStatus(int(c), p.status)})
			p.answers++
			p.state = 0
		case p.state == 2:
			p.job, p.state = append(p.job, escpos.DLE, escpos.EOT, c), 0
		default:
			p.job = append(p.job, c)
		}
	}
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// reset clears the received job and sets the status to answer.
func (p *fakePrinter) reset(st devices.PrinterStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.job, p.answers, p.state = st, nil, 0, 0
}

// received returns a copy of the job bytes and the status answers sent.
func (p *fakePrinter) received() ([]byte, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.job), p.answers
}

// waitJob waits until at least n job bytes arrived and returns them.
func (p *fakePrinter) waitJob(n int, timeout time.Duration) []byte {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		job, _ := p.received()
		if len(job) >= n {
			return job
		}
		select {
		case <-p.changed:
		case <-deadline.C:
			return job
		}
	}
}

// stop closes the device and waits for serve to end; later calls do
// nothing.
func (p *fakePrinter) stop() {
	p.stopped.Do(func() {
		_ = p.f.Close()
		select {
		case <-p.done:
		case <-time.After(2 * time.Second): // a read the driver does not interrupt
		}
	})
}
