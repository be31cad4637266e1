package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/daemon/logging"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// lane is one till at run time: its devices, its scan gate and its one
// sale in flight.
type lane struct {
	d       *Daemon
	cfg     LaneConfig
	log     zerolog.Logger
	printer devices.Printer // nil: none
	scanner devices.Scanner // nil: codes come from the ECR
	gate    *devices.Gate

	mu          sync.Mutex
	cur         *sale              // the sale in flight; nil when idle
	lastRef     string             // the last sale's ref (STATUS / PRINT without ref)
	lastReceipt []byte             // the last receipt job, for reprints
	lastJobRef  string             // the ref of lastReceipt
	scannerErr  string             // the scanner's last problem, for DEVICES
	unsent      map[string]unsent  // sales answered "not sent" the journal has not voided yet, by ref
	tap         func(devices.Scan) // a scan test's receiver; nil normally
}

func newLane(d *Daemon, lc LaneConfig) *lane {
	l := &lane{d: d, cfg: lc, log: logging.WithLane(d.log, lc.ID)}
	l.gate = devices.NewGate(devices.GateConfig{Lane: lc.ID, OnDrop: func(dr devices.Drop) {
		l.log.Info().Str("code", dr.Masked).Str("reason", dr.Reason).Str("source", dr.Source).Msg("scan dropped")
	}})
	return l
}

// runScanner feeds the lane's scanner reads through the gate until ctx
// ends; a scanner that cannot work at all is reported and left stopped.
func (l *lane) runScanner(ctx context.Context) {
	scans := make(chan devices.Scan, 4)
	done := make(chan error, 1)
	go func() { done <- l.scanner.Run(ctx, scans) }()
	for {
		select {
		case sc := <-scans:
			l.offer(sc)
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				l.log.Error().Err(err).Str("scanner", l.scanner.Name()).Msg("scanner stopped")
				l.mu.Lock()
				l.scannerErr = err.Error()
				l.mu.Unlock()
			}
			return
		}
	}
}

// offer passes a scan through the gate to the sale waiting for it. It
// returns the drop reason, or "" when the code was taken.
func (l *lane) offer(sc devices.Scan) string {
	l.mu.Lock()
	s, tap := l.cur, l.tap
	l.mu.Unlock()
	if tap != nil {
		tap(sc)
		return "scan_test"
	}
	if s == nil {
		l.gate.Disarm()
	}
	code, ok, reason := l.gate.Take(sc)
	if !ok {
		return reason
	}
	if s == nil || !s.deliver(code) {
		return devices.DropNotWaiting
	}
	return ""
}

// tapScans hands the lane's raw scans to fn instead of the gate, for a
// scan test (daemon/control_backend.go); no sale can start meanwhile.
func (l *lane) tapScans(fn func(devices.Scan)) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil {
		return nil, fmt.Errorf("sale %s is in flight", l.cur.req.ref)
	}
	if l.tap != nil {
		return nil, errors.New("another scan test is running")
	}
	l.tap = fn
	return func() { l.mu.Lock(); l.tap = nil; l.mu.Unlock() }, nil
}

// unsent is the RESULT a sale got when it ended before its pay was sent
// while the journal could not record that (see sale.notSent).
type unsent struct {
	req saleReq
	res *ecrproto.Message
}

// rememberUnsent keeps res as the answer for r's ref until forgetUnsent.
func (l *lane) rememberUnsent(r saleReq, res *ecrproto.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unsent == nil {
		l.unsent = map[string]unsent{}
	}
	l.unsent[r.ref] = unsent{req: r, res: res}
}

func (l *lane) forgetUnsent(ref string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.unsent, ref)
}

// unsentResult returns a copy of the "not sent" RESULT of ref, if the
// journal has not caught up with it yet.
func (l *lane) unsentResult(ref string) (*ecrproto.Message, saleReq, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.unsent[ref]
	if !ok {
		return nil, saleReq{}, false
	}
	res := *u.res
	return &res, u.req, true
}

// current returns the sale in flight, or nil.
func (l *lane) current() *sale {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// finish clears the lane after s ended.
func (l *lane) finish(s *sale) {
	l.gate.Disarm()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == s {
		l.cur = nil
	}
}

// remember keeps the last receipt job for reprints.
func (l *lane) remember(ref string, job []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastReceipt, l.lastJobRef = job, ref
}

// printJob prints job on the lane's printer within the print timeout. It
// returns "" when printed, else the printer status summary code (or the
// device error code) saying why not.
func (l *lane) printJob(job []byte) string {
	if l.printer == nil {
		return "no_printer"
	}
	ctx, cancel := context.WithTimeout(l.d.stopCtx, l.d.opts.PrintTimeout)
	defer cancel()
	_, err := bounded(ctx, l.printer.Name(), noValue(func(ctx context.Context) error { return l.printer.Print(ctx, job) }))
	if err == nil {
		return ""
	}
	l.log.Warn().Err(err).Str("printer", l.printer.Name()).Msg("receipt not printed")
	if st, ok := devices.StatusOf(err); ok {
		return st.Summary()
	}
	if code := devices.CodeOf(err); code != "" {
		return code
	}
	return devices.StatusUnknown
}

// bounded runs fn(ctx) and returns its result, or a timeout error as soon
// as ctx ends even if fn has not returned: a driver that ignores its
// context (or waits on a lock held by one that does) cannot hold a sale
// past the print timeout. An abandoned call finishes in the background.
func bounded[T any](ctx context.Context, device string, fn func(context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, devices.NewError(devices.CodeTimeout, device, fmt.Errorf("abandoned: %w", ctx.Err()))
	}
}

// noValue adapts a call that returns only an error to bounded.
func noValue(fn func(context.Context) error) func(context.Context) (struct{}, error) {
	return func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) }
}

// drawerKicker is implemented by printer drivers with a cash-drawer port.
type drawerKicker interface {
	OpenDrawer(ctx context.Context) error
}

// kickDrawer opens the cash drawer on the lane's printer within the print
// timeout; a failure is logged only (the sale is paid either way).
func (l *lane) kickDrawer() {
	k, ok := l.printer.(drawerKicker)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(l.d.stopCtx, l.d.opts.PrintTimeout)
	defer cancel()
	if _, err := bounded(ctx, l.printer.Name(), noValue(k.OpenDrawer)); err != nil {
		l.log.Warn().Err(err).Msg("cash drawer not opened")
	}
}

// deviceStates reports the lane's printer and scanner state.
func (l *lane) deviceStates(ctx context.Context) []devices.DeviceState {
	var out []devices.DeviceState
	now := time.Now()
	if l.printer != nil {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := bounded(sctx, l.printer.Name(), l.printer.Status)
		cancel()
		ds := devices.DeviceState{Name: l.printer.Name(), Kind: "printer", State: st.Summary(), Detail: st.Detail, Since: now}
		if err != nil && ds.Detail == "" {
			ds.Detail = err.Error()
		}
		out = append(out, ds)
	}
	if l.scanner != nil {
		out = append(out, l.scannerState(now))
	}
	return out
}

// stater is implemented by scanners that track their own state.
type stater interface{ State() devices.DeviceState }

func (l *lane) scannerState(now time.Time) devices.DeviceState {
	if s, ok := l.scanner.(stater); ok {
		return s.State()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ds := devices.DeviceState{Name: l.scanner.Name(), Kind: "scanner", State: "running", Since: now}
	if l.scannerErr != "" {
		ds.State, ds.Detail = "stopped", l.scannerErr
	}
	return ds
}
