//go:build usbe2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/usb"
)

// receiptJob is a ticket receipt as the daemon prints it: header, lines,
// total, Alipay transaction, the ticket QR code and a cut.
func receiptJob(t *testing.T, ref string) []byte {
	p, err := escpos.LookupProfile("generic-80")
	if err != nil {
		t.Fatal(err)
	}
	e := escpos.NewEncoder(p).Init().Align(escpos.AlignCenter).DoubleHeight().Bold(true).Line("City Museum").Normal().
		Line("1 Museum Square, 1000 Brussels").Align(escpos.AlignLeft).
		Line("Lane lane-1                ref "+ref).
		Line("2 x Adult ticket                      25.00 EUR").
		Line("1 x Child ticket                       7.50 EUR").
		Bold(true).Line("TOTAL                                 32.50 EUR").Bold(false).
		Line("Alipay  2025030122001412345678901234").Line("Buyer   abc***@163.com   CNY 253.40 @ 7.7969").
		Align(escpos.AlignCenter).QR("TB:"+ref, escpos.QROptions{Model: 2, ModuleSize: 6}).
		Line("Thank you for your visit!").Feed(3).Cut(escpos.CutPartial, 0)
	job, err := e.Job()
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// newDriver is the daemon's ESC/POS printer driver on the USB backend.
func newDriver(t *testing.T) *escpos.Printer {
	prof, err := escpos.LookupProfile("generic-80")
	if err != nil {
		t.Fatal(err)
	}
	p, err := escpos.NewPrinter(escpos.PrinterConfig{
		Name: "usb-receipt", Profile: prof, StatusTimeout: 5 * time.Second,
		Open: usb.PrinterOpener(usb.PrinterConfig{Match: printerGadget().match()}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func okStatus() devices.PrinterStatus { return devices.PrinterStatus{Known: true, Online: true} }

// testPrinterDeviceIDAndStatus: the raw transport reads the IEEE-1284 id
// with GET_DEVICE_ID and a DLE EOT 1 reply over bulk IN.
func testPrinterDeviceIDAndStatus(t *testing.T, e *env) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	e.printer.reset(okStatus())
	p, err := usb.OpenPrinter(ctx, usb.PrinterConfig{Match: printerGadget().match()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	raw, err := p.DeviceID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := usb.ParseDeviceID(raw)
	if id.Manufacturer != "Tillbridge Test" || id.Model != "TB-80 USB" || !id.ESCPOS() || id.Class != "PRINTER" {
		t.Errorf("device id %q parsed as %+v", raw, id)
	}
	if _, err := p.Write(ctx, escpos.StatusRequest(escpos.StatusPrinter)); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	var b [1]byte
	if n, err := p.Read(rctx, b[:]); err != nil || n != 1 || b[0] != escpos.EncodeStatus(escpos.StatusPrinter, okStatus()) {
		t.Errorf("status reply % x (n=%d, err=%v)", b[:n], n, err)
	}
	// Nothing more to read: Read ends at the deadline with a timeout.
	tctx, tcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer tcancel()
	if _, err := p.Read(tctx, b[:]); !errors.Is(err, devices.ErrTimeout) {
		t.Errorf("read with nothing sent: %v, want timeout", err)
	}
}

// testPrinterReceipt: the daemon's driver polls status over USB, then
// prints a receipt that arrives byte for byte on the gadget.
func testPrinterReceipt(t *testing.T, e *env) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	e.printer.reset(okStatus())
	p := newDriver(t)
	job := receiptJob(t, "T-20250301-0042")
	if err := p.Print(ctx, job); err != nil {
		t.Fatal(err)
	}
	got := e.printer.waitJob(len(job), hang)
	if !bytes.Equal(got, job) {
		t.Fatalf("gadget received %d bytes, sent %d; equal=%v", len(got), len(job), bytes.Equal(got, job))
	}
	if _, answers := e.printer.received(); answers < 3 {
		t.Errorf("%d status replies sent, want DLE EOT 1, 2 and 4 answered", answers)
	}
	st, err := p.Status(ctx)
	if err != nil || st.Summary() != devices.StatusOK {
		t.Errorf("status %s (%+v), %v", st.Summary(), st, err)
	}
	t.Logf("receipt: %d bytes through bulk OUT, status %s over bulk IN", len(job), st.Summary())
}

// testPrinterPaperEnd: a printer out of paper says so over bulk IN and the
// driver refuses the job instead of losing it.
func testPrinterPaperEnd(t *testing.T, e *env) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	e.printer.reset(devices.PrinterStatus{Known: true, Online: true, PaperEnd: true})
	p := newDriver(t)
	err := p.Print(ctx, receiptJob(t, "T-PAPER"))
	st, ok := devices.StatusOf(err)
	if !errors.Is(err, devices.ErrNotReady) || !ok || st.Summary() != devices.StatusPaperEnd {
		t.Fatalf("Print with paper end: %v (status %+v)", err, st)
	}
	if job, _ := e.printer.received(); len(job) != 0 {
		t.Errorf("%d job bytes reached a printer without paper", len(job))
	}
}

// testPrinterUnplug: printing fails while the printer is unplugged and
// works again after it comes back (new USB address), through the same
// driver, without restarting anything.
func testPrinterUnplug(t *testing.T, e *env) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*hang)
	defer cancel()
	e.printer.reset(okStatus())
	p := newDriver(t)
	first := receiptJob(t, "T-BEFORE")
	if err := p.Print(ctx, first); err != nil {
		t.Fatal(err)
	}
	if got := e.printer.waitJob(len(first), hang); !bytes.Equal(got, first) {
		t.Fatalf("before unplug: %d of %d bytes", len(got), len(first))
	}
	g := printerGadget()
	e.printer.stop() // see writeReports: never keep a gadget node open across an unplug
	if err := unplug(g); err != nil {
		t.Fatal(err)
	}
	err := p.Print(ctx, first)
	if err == nil || !(errors.Is(err, devices.ErrNotFound) || errors.Is(err, devices.ErrOffline)) {
		t.Fatalf("Print while unplugged: %v, want not_found or offline", err)
	}
	t.Logf("while unplugged: %v", err)
	if err := plug(g); err != nil {
		t.Fatal(err)
	}
	// /dev/g_printer0 opens (ENODEV before) once the host configured the
	// device again.
	err = waitFor(hang, "/dev/g_printer0 after replug", func() bool {
		fp, err := startFakePrinter()
		if err == nil {
			e.printer = fp
		}
		return err == nil
	})
	if err != nil {
		t.Fatal(err)
	}
	second := receiptJob(t, "T-AFTER")
	err = waitFor(hang, "printing after replug", func() bool {
		e.printer.reset(okStatus())
		return p.Print(ctx, second) == nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.printer.waitJob(len(second), hang); !bytes.Equal(got, second) {
		t.Fatalf("after replug: %d of %d bytes", len(got), len(second))
	}
}
