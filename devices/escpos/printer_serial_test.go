//go:build linux

package escpos

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/tillbridge/tillbridge/devices"
)

// TestSerialPrinterOverPty drives the real serial backend through a pty
// pair: the master side plays an ESC/POS printer that answers DLE EOT.
func TestSerialPrinterOverPty(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	defer slave.Close()

	var mu sync.Mutex
	st := devices.PrinterStatus{Online: true, PaperNearEnd: true}
	var got bytes.Buffer
	go func() { // the printer: DLE EOT n is answered, the rest recorded
		buf := make([]byte, 512)
		var pend []byte
		for {
			n, err := master.Read(buf)
			if err != nil {
				return
			}
			pend = append(pend, buf[:n]...)
			for len(pend) >= 3 || (len(pend) > 0 && pend[0] != DLE) {
				mu.Lock()
				if pend[0] == DLE && pend[1] == EOT {
					master.Write([]byte{EncodeStatus(int(pend[2]), st)})
					pend = pend[3:]
				} else {
					got.WriteByte(pend[0])
					pend = pend[1:]
				}
				mu.Unlock()
			}
		}
	}()

	ctx := context.Background()
	p, err := NewPrinter(PrinterConfig{Name: "serial", Profile: mustProfile(t, "generic-58"),
		Open: devices.SerialOpener(devices.SerialConfig{Port: slave.Name(), Baud: 38400}), StatusTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.Status(ctx)
	if err != nil || s.Summary() != devices.StatusPaperNearEnd || !s.Ready() {
		t.Fatalf("Status = %+v, %v", s, err)
	}
	job := testJob(t, "serial receipt")
	if err := p.Print(ctx, job); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !bytes.Equal(got.Bytes(), job) {
		t.Errorf("printer got % x, want % x", got.Bytes(), job)
	}
	st = devices.PrinterStatus{Online: false, CoverOpen: true}
	mu.Unlock()
	if err := p.Print(ctx, job); !errors.Is(err, devices.ErrNotReady) {
		t.Fatalf("Print with cover open = %v", err)
	}
}
