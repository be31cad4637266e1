package escpos

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/devices"
)

func newTestPrinter(t *testing.T, open devices.Opener, mod func(*PrinterConfig)) *Printer {
	t.Helper()
	cfg := PrinterConfig{Name: "front", Profile: mustProfile(t, "generic-80"), Open: open, StatusTimeout: 5 * time.Second} // generous: answers are expected
	if mod != nil {
		mod(&cfg)
	}
	p, err := NewPrinter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func testJob(t *testing.T, text string) []byte {
	t.Helper()
	job, err := NewEncoder(mustProfile(t, "generic-80")).Init().Line(text).Cut(CutPartial, 0).Job()
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func TestNetworkPrinterBytesAndStatus(t *testing.T) {
	ctx := context.Background()
	srv := newTCPPrinter(t)
	p := newTestPrinter(t, devices.NetworkOpener(srv.addr, time.Second), nil)

	st, err := p.Status(ctx)
	if err != nil || st.Summary() != devices.StatusOK {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	job := testJob(t, "Ticket T-1 12.50 EUR")
	if err := p.Print(ctx, job); err != nil {
		t.Fatal(err)
	}
	st, err = p.Status(ctx) // a round trip after the job: the job has been read by the server
	if err != nil || !st.Ready() {
		t.Fatalf("Status after print = %+v, %v", st, err)
	}
	if got := srv.received(); !bytes.Equal(got, job) {
		t.Fatalf("printer received\n% x\nwant\n% x", got, job)
	}

	srv.setStatus(devices.PrinterStatus{Online: false, PaperEnd: true, PaperNearEnd: true})
	err = p.Print(ctx, testJob(t, "must not print"))
	if !errors.Is(err, devices.ErrNotReady) {
		t.Fatalf("Print with paper end = %v, want not_ready", err)
	}
	if st, ok := devices.StatusOf(err); !ok || st.Summary() != devices.StatusPaperEnd {
		t.Fatalf("StatusOf = %+v, %v", st, ok)
	}
	if _, err := p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.received(); len(got) != 0 {
		t.Fatalf("refused job reached the printer: % x", got)
	}
}

func TestNetworkPrinterReopensAfterPowerCycle(t *testing.T) {
	ctx := context.Background()
	srv := newTCPPrinter(t)
	p := newTestPrinter(t, devices.NetworkOpener(srv.addr, time.Second), nil)
	one := testJob(t, "one")
	if err := p.Print(ctx, one); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Status(ctx); err != nil { // round trip: the job has been read
		t.Fatal(err)
	}
	if got := srv.received(); !bytes.Equal(got, one) {
		t.Fatalf("printer received % x, want % x", got, one)
	}

	srv.down()
	st, err := p.Status(ctx)
	if err == nil || st.Known || st.Summary() != devices.StatusUnknown {
		t.Fatalf("Status while down = %+v, %v; want unknown with an error", st, err)
	}
	if code := devices.CodeOf(err); code != devices.CodeOffline {
		t.Fatalf("error code %q, want offline (%v)", code, err)
	}
	if err := p.Print(ctx, testJob(t, "two")); !errors.Is(err, devices.ErrNotReady) || !errors.Is(err, devices.ErrOffline) {
		t.Fatalf("Print while down = %v, want not_ready caused by offline", err)
	}

	srv.up()
	job := testJob(t, "three")
	if err := p.Print(ctx, job); err != nil {
		t.Fatalf("Print after power-on: %v", err)
	}
	if _, err := p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.received(); !bytes.Equal(got, job) {
		t.Fatalf("after reopen printer received % x, want % x", got, job)
	}
	if n := srv.acceptCount(); n != 2 {
		t.Fatalf("accepted %d connections, want 2 (one per power cycle)", n)
	}
}

func TestSilentPrinterFailsClosed(t *testing.T) {
	ctx := context.Background()
	srv := newTCPPrinter(t)
	srv.setSilent(true)
	short := func(c *PrinterConfig) { c.StatusTimeout = 100 * time.Millisecond } // silence is certain
	p := newTestPrinter(t, devices.NetworkOpener(srv.addr, time.Second), short)
	st, err := p.Status(ctx)
	if st.Known || st.Ready() || !errors.Is(err, devices.ErrTimeout) {
		t.Fatalf("silent printer Status = %+v, %v; want unknown + timeout", st, err)
	}
	err = p.Print(ctx, testJob(t, "x"))
	if !errors.Is(err, devices.ErrNotReady) || !errors.Is(err, devices.ErrTimeout) {
		t.Fatalf("Print = %v, want not_ready (timeout)", err)
	}
	if st, _ := devices.StatusOf(err); st.Summary() != devices.StatusUnknown {
		t.Fatalf("refusal status %q, want unknown", st.Summary())
	}

	lenient := newTestPrinter(t, devices.NetworkOpener(srv.addr, time.Second), func(c *PrinterConfig) { short(c); c.PrintWhenUnknown = true })
	job := testJob(t, "printed anyway")
	if err := lenient.Print(ctx, job); err != nil {
		t.Fatalf("PrintWhenUnknown: %v", err)
	}
}

func TestOneWayPrinter(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/out.bin"
	p := newTestPrinter(t, devices.FileOpener(path), func(c *PrinterConfig) { c.OneWay = true })
	st, err := p.Status(ctx)
	if err != nil || st.Known || !st.OneWay || st.Summary() != devices.StatusUnknown {
		t.Fatalf("one-way Status = %+v, %v", st, err)
	}
	if err := p.Print(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	// A file declared two-way cannot answer: status is unknown (one_way).
	q := newTestPrinter(t, devices.FileOpener(path), nil)
	st, err = q.Status(ctx)
	if st.Known || !st.OneWay || !errors.Is(err, devices.ErrOneWay) {
		t.Fatalf("two-way file Status = %+v, %v", st, err)
	}
}

func TestSimPrinterStatusReprintDrawer(t *testing.T) {
	ctx := context.Background()
	sim := devices.NewSimPrinter("sim")
	p := newTestPrinter(t, sim.Opener(), func(c *PrinterConfig) { c.Drawer = DrawerConfig{Pin: 5} })

	if err := p.Reprint(ctx); !errors.Is(err, devices.ErrNotFound) {
		t.Fatalf("Reprint before any job = %v, want not_found", err)
	}
	job := testJob(t, "receipt")
	if err := p.Print(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := p.OpenDrawer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Reprint(ctx); err != nil {
		t.Fatal(err)
	}
	kick := []byte{ESC, 'p', 1, 50, 250}
	want := append(append(append([]byte{}, job...), kick...), job...)
	if got := sim.Printed(); !bytes.Equal(got, want) {
		t.Fatalf("sim printed\n% x\nwant\n% x", got, want)
	}

	for _, tc := range []struct {
		st   devices.PrinterStatus
		want string
	}{
		{devices.PrinterStatus{CoverOpen: true}, devices.StatusCoverOpen},
		{devices.PrinterStatus{Online: true, CutterError: true}, devices.StatusCutterError},
		{devices.PrinterStatus{}, devices.StatusOffline},
	} {
		sim.SetStatus(tc.st)
		err := p.Print(ctx, job)
		if st, ok := devices.StatusOf(err); !ok || st.Summary() != tc.want {
			t.Errorf("status %+v: Print = %v, want refusal %q", tc.st, err, tc.want)
		}
	}
	sim.SetStatus(devices.PrinterStatus{Online: true, PaperNearEnd: true})
	if err := p.Print(ctx, job); err != nil {
		t.Fatalf("near end must still print: %v", err)
	}
}

func TestSimPrinterUnplugReplug(t *testing.T) {
	ctx := context.Background()
	sim := devices.NewSimPrinter("sim")
	p := newTestPrinter(t, sim.Opener(), nil)
	if _, err := p.Status(ctx); err != nil {
		t.Fatal(err)
	}
	sim.Unplug()
	st, err := p.Status(ctx)
	if st.Known || !errors.Is(err, devices.ErrNotFound) {
		t.Fatalf("unplugged Status = %+v, %v; want unknown, not_found", st, err)
	}
	sim.Plug()
	if st, err := p.Status(ctx); err != nil || !st.Ready() {
		t.Fatalf("replugged Status = %+v, %v", st, err)
	}
	if n := sim.Opens(); n != 2 {
		t.Fatalf("opens = %d, want 2", n)
	}
}

func TestNewPrinterValidates(t *testing.T) {
	if _, err := NewPrinter(PrinterConfig{Name: "x", Profile: mustProfile(t, "generic-80")}); !errors.Is(err, devices.ErrConfig) {
		t.Fatalf("no backend: %v", err)
	}
	if _, err := NewPrinter(PrinterConfig{Open: devices.FileOpener("x"), Profile: mustProfile(t, "generic-80")}); !errors.Is(err, devices.ErrConfig) {
		t.Fatalf("no name: %v", err)
	}
	p, err := NewPrinter(PrinterConfig{Name: "x", Open: devices.FileOpener("x"), Profile: mustProfile(t, "zj-58")})
	if err != nil || !p.OneWay() {
		t.Fatalf("zj-58 profile should make the printer one-way: %v", err)
	}
}
