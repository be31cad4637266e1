package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
)

// This file implements control.Backend on *Daemon. It only reads the
// daemon's state; every method checks Ready first, because the lanes and the
// journal are built while the control API already listens.

var _ control.Backend = (*Daemon)(nil)

// statusTimeout bounds one printer status request in a snapshot.
const statusTimeout = 2 * time.Second

// startControl opens the control API and serves it until shutdown begins.
// A control socket that cannot be opened is logged, never fatal: the till
// keeps taking payments without its diagnostics.
func (d *Daemon) startControl(ctx context.Context) {
	addr := ControlAddress(d.cfg)
	d.console.local = control.NewLocal(d, d.log)
	ln, err := control.Listen(ctx, addr)
	if err != nil {
		d.log.Error().Bool("lifecycle", true).Err(err).Str("control", addr).
			Msg("control API not available (tillbridge status etc. will not work); payments are not affected")
		return
	}
	d.log.Info().Str("control", addr).Msg("control API listening")
	d.console.watched = true // Serve feeds the shared gateway health
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		o := control.Options{Logger: d.log,
			ErrorLog: slog.NewLogLogger(slogFor(d.log, "control").Handler(), slog.LevelWarn), Local: d.console.local}
		if err := control.Serve(d.stopCtx, ln, d, o); err != nil && d.stopCtx.Err() == nil {
			d.log.Error().Err(err).Msg("control API stopped")
		}
	}()
}

// Journal returns the journal engine once the daemon is ready.
func (d *Daemon) Journal() (control.Journal, error) {
	if !d.Ready() {
		return nil, control.ErrStarting
	}
	return d.eng, nil
}

// daemonState names the daemon's lifecycle stage.
func (d *Daemon) daemonState() string {
	switch {
	case d.Ready():
		return control.DaemonReady
	case d.isStopping():
		return control.DaemonStopping
	}
	return control.DaemonStarting
}

// Snapshot reports version, uptime, lanes, devices and queue counts. Before
// the daemon is ready it reports only what is known then.
func (d *Daemon) Snapshot(ctx context.Context) (control.StatusSnapshot, error) {
	g := d.cfg.Gateway
	s := control.StatusSnapshot{Version: d.opts.Version, GoOS: runtime.GOOS + "/" + runtime.GOARCH,
		State: d.daemonState(), Started: d.started, DataDir: d.cfg.Daemon.DataDir,
		Control: ControlAddress(d.cfg), Lanes: []control.LaneStatus{},
		Gateway: control.GatewayHealth{URL: g.URL, Partner: g.Partner, SignType: g.SignType}}
	if !d.started.IsZero() {
		s.UptimeSeconds = int64(time.Since(d.started).Seconds())
	}
	s.Reconcile = d.ReconStatus()
	if s.State != control.DaemonReady {
		return s, nil
	}
	s.ECR = d.addrStrings()
	counts, err := d.eng.Counts(ctx)
	if err != nil {
		return s, fmt.Errorf("queue counts: %w", err)
	}
	s.Queue = control.NewQueueCounts(counts)
	s.Lanes = d.laneStatuses(ctx)
	return s, nil
}

// laneStatuses reports every lane, asking the printers in parallel.
func (d *Daemon) laneStatuses(ctx context.Context) []control.LaneStatus {
	out := make([]control.LaneStatus, len(d.laneOrder))
	var wg sync.WaitGroup
	for i, id := range d.laneOrder {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = d.laneStatus(ctx, d.lanes[id])
		}()
	}
	wg.Wait()
	return out
}

func (d *Daemon) laneStatus(ctx context.Context, l *lane) control.LaneStatus {
	ls := control.LaneStatus{ID: l.cfg.ID, TerminalID: l.cfg.TerminalID}
	if s := l.current(); s != nil {
		ls.Sale = &control.LaneSale{Ref: s.req.ref, OpID: s.id, Amount: s.req.amount, Currency: s.req.currency}
		if op, err := d.eng.Get(ctx, s.id); err == nil {
			ls.Sale.State, ls.Sale.Since = string(op.State), op.CreatedAt
		}
	}
	if l.printer != nil {
		ph := printerHealth(ctx, l.printer)
		ls.Printer = &ph
	}
	if l.scanner != nil {
		st := l.scannerState(time.Now())
		ls.Scanner = &st
	}
	return ls
}

// printerHealth asks p for its status (bounded by statusTimeout).
func printerHealth(ctx context.Context, p devices.Printer) control.PrinterHealth {
	sctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	st, err := p.Status(sctx)
	ph := control.PrinterHealth{Name: p.Name(), State: st.Summary(), Ready: st.Ready(), OneWay: st.OneWay, Detail: st.Detail}
	if err != nil && ph.Detail == "" {
		ph.Detail = err.Error()
	}
	return ph
}

// controlLane finds the lane a test is for: id, or the only lane when id
// is empty.
func (d *Daemon) controlLane(id string) (*lane, error) {
	if !d.Ready() {
		return nil, control.ErrStarting
	}
	if id == "" {
		if len(d.laneOrder) != 1 {
			return nil, control.Errorf(control.CodeInvalid, "which lane? give --lane, one of %s", strings.Join(d.laneOrder, ", "))
		}
		id = d.laneOrder[0]
	}
	l, ok := d.lanes[id]
	if !ok {
		return nil, control.Errorf(control.CodeNotFound, "no lane %q is configured (lanes: %s)", id, strings.Join(d.laneOrder, ", "))
	}
	return l, nil
}

// Devices reports each lane's configured devices with their state, and
// what discovery finds on the machine.
func (d *Daemon) Devices(ctx context.Context) (control.DevicesReport, error) {
	if !d.Ready() {
		return control.DevicesReport{}, control.ErrStarting
	}
	rep := control.DevicesReport{FromDaemon: true, Lanes: ConfiguredDevices(d.cfg)}
	for i := range rep.Lanes {
		l := d.lanes[rep.Lanes[i].Lane]
		rep.Lanes[i].States = l.deviceStates(ctx)
	}
	rep.Discovery = DiscoverDevices(ctx, d.cfg)
	for _, ld := range rep.Lanes {
		rep.Discovery.Configured = append(rep.Discovery.Configured, ld.States...)
	}
	return rep, nil
}

// PrintTest prints a test page on the lane's printer, with its status
// before and after. A printer problem is a result (Printed false), not an
// error.
func (d *Daemon) PrintTest(ctx context.Context, laneID string) (control.PrintTestResult, error) {
	l, err := d.controlLane(laneID)
	if err != nil {
		return control.PrintTestResult{}, err
	}
	if l.printer == nil {
		return control.PrintTestResult{}, control.Errorf(control.CodeUnsupported, "lane %s has no printer configured", l.cfg.ID)
	}
	res := control.PrintTestResult{Lane: l.cfg.ID, Printer: l.printer.Name(), Before: printerHealth(ctx, l.printer)}
	job, err := d.testPage(l, res.Before)
	if err != nil {
		return res, fmt.Errorf("test page: %w", err)
	}
	if res.Problem = l.printJob(job); res.Problem == "" {
		res.Printed = true
	} else {
		res.Detail = "the printer did not take the test page: " + res.Problem
	}
	after := printerHealth(ctx, l.printer)
	res.After = &after
	return res, nil
}

// testPage is the ESC/POS job of a test print: no payment, just the lane,
// printer and a character line to check the code page.
func (d *Daemon) testPage(l *lane, before control.PrinterHealth) ([]byte, error) {
	p := l.profile()
	e := escpos.NewEncoder(p).Init().Align(escpos.AlignCenter).Bold(true).Line("tillbridge test print").Bold(false)
	e.Line(time.Now().Format(time.DateTime)).Align(escpos.AlignLeft).LF()
	for _, line := range []string{
		"lane:     " + l.cfg.ID + " (terminal " + l.cfg.TerminalID + ")",
		"printer:  " + l.printer.Name() + " (" + p.Name + ")",
		fmt.Sprintf("paper:    %d mm, %d columns", p.PaperMM, p.Columns),
		"status:   " + before.State,
		"version:  " + d.opts.Version,
		"0123456789 ABCDEFGHIJKLM abcdefghijklm",
		strings.Repeat("-", p.Columns),
		"NOT A RECEIPT - no payment was made",
	} {
		e.Line(line)
	}
	return e.Feed(2).Cut(escpos.CutPartial, 0).Job()
}

// ScanTest waits up to timeout for one read on the lane's scanner and
// reports it masked, with whether the lane would take it as an Alipay
// code. It never starts a payment.
func (d *Daemon) ScanTest(ctx context.Context, laneID string, timeout time.Duration) (control.ScanTestResult, error) {
	l, err := d.controlLane(laneID)
	if err != nil {
		return control.ScanTestResult{}, err
	}
	if l.scanner == nil {
		return control.ScanTestResult{}, control.Errorf(control.CodeUnsupported,
			"lane %s has no scanner configured: its codes come from the ECR (SCAN)", l.cfg.ID)
	}
	got := make(chan devices.Scan, 1)
	release, err := l.tapScans(func(sc devices.Scan) {
		select {
		case got <- sc:
		default:
		}
	})
	if err != nil {
		return control.ScanTestResult{}, control.Errorf(control.CodeBusy, "lane %s: %v", l.cfg.ID, err)
	}
	defer release()
	res := control.ScanTestResult{Lane: l.cfg.ID, Scanner: l.scanner.Name()}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case sc := <-got:
		res = scanResult(res, sc)
	case <-timer.C:
		res.Verdict = fmt.Sprintf("nothing was scanned in %s: check the scanner's cable, power and mode", timeout)
	case <-ctx.Done():
		return res, ctx.Err()
	}
	l.log.Info().Str("code", res.Masked).Bool("alipay", res.LooksAlipay).Bool("scanned", res.Scanned).Msg("scan test")
	return res, nil
}

// scanResult describes one test scan without revealing the code.
func scanResult(res control.ScanTestResult, sc devices.Scan) control.ScanTestResult {
	code := devices.CleanCode(sc.Code)
	res.Scanned, res.Masked, res.Length = true, devices.MaskCode(code), len(code)
	res.Source, res.At, res.LooksAlipay = sc.Source, sc.At, devices.IsAlipayCode(code)
	if res.LooksAlipay {
		res.Verdict = "the scanner works and read an Alipay payment code; the lane would accept it"
	} else {
		res.Verdict = "the scanner works, but this is not an Alipay payment code (16-24 digits starting 25-30): " +
			"scan a customer's payment code; if one was scanned, check the scanner's keyboard layout and suffix"
	}
	return res
}
