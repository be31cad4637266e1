package daemon_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// stuckPrinter is a printer driver that ignores its context: Print and
// Status never return until the test ends (a hung USB stack, a driver
// bug). It stands in for hardware that misbehaves; the daemon must bound
// its calls itself.
type stuckPrinter struct {
	name    string
	release chan struct{}
	once    sync.Once
}

func newStuckPrinter(t *testing.T, name string) *stuckPrinter {
	p := &stuckPrinter{name: name, release: make(chan struct{})}
	t.Cleanup(func() { p.once.Do(func() { close(p.release) }) })
	return p
}

func (p *stuckPrinter) Print(context.Context, []byte) error { <-p.release; return nil }
func (p *stuckPrinter) Status(context.Context) (devices.PrinterStatus, error) {
	<-p.release
	return devices.PrinterStatus{}, nil
}
func (p *stuckPrinter) Close() error { return nil }
func (p *stuckPrinter) Name() string { return p.name }

// TestStuckPrinterNeverHoldsTheResult: the lane's printer driver never
// returns from Print. The sale still answers APPROVED at the print
// timeout, with PRINTER_ERROR; a CANCEL's slip and DEVICES are bounded the
// same way. Before the fix the RESULT waited for the driver forever.
func TestStuckPrinterNeverHoldsTheResult(t *testing.T) {
	stuck := newStuckPrinter(t, "lane-1")
	e := startEnv(t, daemonenv.WithDaemon(func(o *daemon.Options) {
		o.Printers = map[string]devices.Printer{"lane-1": stuck}
		o.PrintTimeout = 300 * time.Millisecond
	}))
	res, events := e.Do(enc(false), saleMsg("1", "SP1", 1250, code(0, 71)))
	if res.Status != ecrproto.StatusApproved || !contains(events, ecrproto.EventPrinterError) ||
		!strings.Contains(res.Message, "receipt not printed") {
		t.Fatalf("RESULT %+v, events %v: want APPROVED with the printer's problem", res, events)
	}
	cancel, events := e.Do(enc(true), &ecrproto.Message{Type: ecrproto.TypeCancel, Lane: "1", Ref: "SP1"})
	if cancel.Status != ecrproto.StatusCancelled || !contains(events, ecrproto.EventPrinterError) {
		t.Fatalf("CANCEL %+v, events %v: want CANCELLED with the slip's printer problem", cancel, events)
	}
	dev, _ := e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeDevices, Lane: "1"})
	if dev.Status != ecrproto.StatusOK || !strings.Contains(dev.Message, "lane-1") {
		t.Fatalf("DEVICES %+v", dev)
	}
}
