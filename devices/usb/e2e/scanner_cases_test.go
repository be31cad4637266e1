//go:build usbe2e

package e2e

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/hid"
	"github.com/tillbridge/tillbridge/devices/usb"
)

// payCode is an Alipay-style customer code (18 digits starting 28).
const payCode = "286813975482301759"

// running is a scanner's Run in the background with its signals.
type running struct {
	scans  chan devices.Scan
	opened chan struct{}
	errs   chan error
	stop   func()
}

// runScanner starts a USB scanner and waits until it is open and reading.
func runScanner(t *testing.T, cfg usb.ScannerConfig) *running {
	r := &running{scans: make(chan devices.Scan, 8), opened: make(chan struct{}, 8), errs: make(chan error, 64)}
	cfg.Match, cfg.Poll = scannerGadget().match(), 100*time.Millisecond
	cfg.OnOpen = func() { r.opened <- struct{}{} }
	cfg.OnError = func(err error) {
		select {
		case r.errs <- err:
		default:
		}
	}
	s, err := usb.NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, r.scans) }()
	r.stop = func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}
	t.Cleanup(r.stop)
	r.waitOpen(t)
	return r
}

// waitOpen waits until the scanner is open; errors while it retries
// (device not back yet) are expected and only shown on failure.
func (r *running) waitOpen(t *testing.T) {
	t.Helper()
	var last error
	deadline := time.After(hang)
	for {
		select {
		case <-r.opened:
			return
		case last = <-r.errs:
		case <-deadline:
			t.Fatalf("scanner did not open; last error: %v", last)
		}
	}
}

// expect waits for the next scan and checks its code.
func (r *running) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case s := <-r.scans:
		if s.Code != want {
			t.Errorf("scanned %q, want %q", s.Code, want)
		}
		if s.At.IsZero() || s.Source == "" {
			t.Errorf("scan without time or source: %+v", s)
		}
	case <-time.After(hang):
		t.Fatalf("no scan of %q", want)
	}
}

// writeReports is the scanner hardware: it writes reports to a gadget
// HID device in the background (each write waits for the host to poll).
// The returned function waits until all are written and checks the
// outcome; the test's cleanup does so too. No gadget device may stay open
// across an unplug: f_hid and f_printer recreate their character device
// on rebind, and closing a file opened before corrupts the kernel's cdev
// list (kernel BUG in cd_forget, seen on 6.1).
func writeReports(t *testing.T, dev string, reports [][]byte) (wait func()) {
	errc := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(dev, os.O_WRONLY, 0)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		_ = f.SetWriteDeadline(time.Now().Add(hang))
		for _, r := range reports {
			if _, err := f.Write(r); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	var once sync.Once
	wait = func() {
		once.Do(func() {
			if err := <-errc; err != nil {
				t.Errorf("gadget write to %s: %v", dev, err)
			}
		})
	}
	t.Cleanup(wait)
	return wait
}

func reports(t *testing.T, layout, text string) [][]byte {
	l, err := hid.LookupLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Reports(text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testKeyboardUS: a wedge scanner on US layout types the payment code;
// usbhid is detached, the code is decoded from interrupt IN reports.
func testKeyboardUS(t *testing.T, e *env) {
	r := runScanner(t, usb.ScannerConfig{Mode: usb.ModeKeyboard, Layout: "us"})
	writeReports(t, e.kbdDev, reports(t, "us", payCode+"\n"))
	r.expect(t, payCode)
}

// testKeyboardFR: an AZERTY scanner sends Shift with every digit (written
// out here by hand); the fr layout reads digits, not "&é\"'(".
func testKeyboardFR(t *testing.T, e *env) {
	var reps [][]byte
	for _, d := range payCode {
		u := byte(0x27) // the 0 key
		if d != '0' {
			u = 0x1e + byte(d-'1')
		}
		reps = append(reps, []byte{hid.ModLeftShift, 0, u, 0, 0, 0, 0, 0}, make([]byte, 8))
	}
	reps = append(reps, []byte{0, 0, hid.UsageEnter, 0, 0, 0, 0, 0}, make([]byte, 8))
	r := runScanner(t, usb.ScannerConfig{Mode: usb.ModeKeyboard, Layout: "fr"})
	writeReports(t, e.kbdDev, reps)
	r.expect(t, payCode)
}

// testKeyboardDE: QWERTZ swaps Y and Z; two scans in a row.
func testKeyboardDE(t *testing.T, e *env) {
	r := runScanner(t, usb.ScannerConfig{Mode: usb.ModeKeyboard, Layout: "de"})
	writeReports(t, e.kbdDev, reports(t, "de", "Zyx-2025\n"+payCode+"\n"))
	r.expect(t, "Zyx-2025")
	r.expect(t, payCode)
}

// testHIDPOS: a HID-POS scanner sends a QR payload in two scanned data
// reports (continuation flag) and an EAN-13 in one.
func testHIDPOS(t *testing.T, e *env) {
	qr := "https://qr.alipay.com/bax03431ljhokirwl38f00a7?ticket=T-20250301-0042"
	f := hid.POSFormat{ReportID: 2}
	reps := append(hid.EncodePOSReport(f, "]Q1", 's', []byte(qr)), hid.EncodePOSReport(f, "]E0", 'd', []byte("4006381333931"))...)
	r := runScanner(t, usb.ScannerConfig{Mode: usb.ModeHIDPOS})
	writeReports(t, e.posDev, reps)
	r.expect(t, qr)
	r.expect(t, "4006381333931")
}

// testScannerUnplug: the scanner survives an unplug: Run reports the
// loss, reopens the device when it is back, and reads the next scan.
func testScannerUnplug(t *testing.T, e *env) {
	r := runScanner(t, usb.ScannerConfig{Mode: usb.ModeKeyboard, Layout: "us"})
	written := writeReports(t, e.kbdDev, reports(t, "us", "BEFORE-1\n"))
	r.expect(t, "BEFORE-1")
	written()
	g := scannerGadget()
	if err := unplug(g); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.errs:
		t.Logf("unplug seen: %v", err)
	case <-time.After(hang):
		t.Fatal("unplug not reported")
	}
	if err := plug(g); err != nil {
		t.Fatal(err)
	}
	r.waitOpen(t)
	writeReports(t, e.kbdDev, reports(t, "us", payCode+"\n"))
	r.expect(t, payCode)
}

// testSerialCDCACM: the devices package's serial scanner reads a scan from
// a CDC-ACM scanner (/dev/ttyACM0 on the host, /dev/ttyGSN on the gadget).
func testSerialCDCACM(t *testing.T, e *env) {
	sc := devices.NewSerialScanner("acm", devices.SerialConfig{Port: "/dev/ttyACM0"},
		devices.LineScannerConfig{Backoff: devices.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scans := make(chan devices.Scan, 4)
	go func() { _ = sc.Run(ctx, scans) }()
	if err := waitFor(hang, "serial scanner connected", func() bool { return sc.State().State == "connected" }); err != nil {
		t.Fatal(err)
	}
	port, err := serial.Open(e.acmDev, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	if _, err := port.Write([]byte(payCode + "\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-scans:
		if s.Code != payCode || s.Source != "serial:/dev/ttyACM0" {
			t.Errorf("got %+v", s)
		}
	case <-time.After(hang):
		t.Fatal("no scan over CDC-ACM")
	}
}
