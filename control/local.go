package control

import (
	"context"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/recon"
)

// Local is the control API called in-process, for a front end that runs
// inside the daemon (the browser console): the same answers, verdicts
// and journaling as the HTTP endpoints, without a round trip through the
// control socket. Pass it to Serve in Options.Local so both share what
// the status verdict knows of the gateway (Serve feeds it from the
// journal); without Serve, call Watch.
type Local struct {
	s *server
}

// NewLocal returns the in-process control API over b; log receives what
// the endpoints log (resolutions, tests, internal errors).
func NewLocal(b Backend, log zerolog.Logger) *Local {
	return &Local{s: &server{b: b, log: log.With().Str("component", "control").Logger()}}
}

// Backend returns the backend l calls.
func (l *Local) Backend() Backend { return l.s.b }

// Watch feeds the gateway health from the journal until ctx ends; Serve
// does it for a Local passed in its Options.
func (l *Local) Watch(ctx context.Context) { l.s.gw.watch(ctx, l.s.b, time.Now()) }

// Status is GET /v1/status: the snapshot with the gateway health and the
// verdict `tillbridge status` prints.
func (l *Local) Status(ctx context.Context) (StatusSnapshot, error) {
	snap, err := l.s.snapshot(ctx)
	return snap, l.wrap(err)
}

// Devices is GET /v1/devices.
func (l *Local) Devices(ctx context.Context) (DevicesReport, error) {
	rep, err := l.s.b.Devices(ctx)
	return rep, l.wrap(err)
}

// PrintTest is POST /v1/print-test.
func (l *Local) PrintTest(ctx context.Context, lane string) (PrintTestResult, error) {
	l.s.log.Info().Str("lane", lane).Str("via", "console").Msg("print test requested")
	res, err := l.s.b.PrintTest(ctx, lane)
	return res, l.wrap(err)
}

// ScanTest is POST /v1/scan-test (timeout within MaxScanTestTimeout).
func (l *Local) ScanTest(ctx context.Context, lane string) (ScanTestResult, error) {
	l.s.log.Info().Str("lane", lane).Str("via", "console").Msg("scan test requested")
	res, err := l.s.b.ScanTest(ctx, lane, DefaultScanTestTimeout)
	return res, l.wrap(err)
}

// GatewayCheck is POST /v1/gateway-check; its outcome counts in the
// status verdict as the endpoint's does.
func (l *Local) GatewayCheck(ctx context.Context) (GatewayCheckResult, error) {
	res, err := l.s.b.GatewayCheck(ctx)
	if err == nil {
		l.s.gw.checked(res)
		l.s.log.Info().Str("verdict", res.Verdict).Str("via", "console").Msg("gateway check")
	}
	return res, l.wrap(err)
}

// Queue is GET /v1/queue: states as the endpoint's state parameter
// (comma-separated, "open" for every non-final state), newest first.
func (l *Local) Queue(ctx context.Context, states, lane string, limit int) ([]OpView, error) {
	st, err := parseStates(states)
	if err != nil {
		return nil, err
	}
	eng, err := l.s.b.Journal()
	if err != nil {
		return nil, l.wrap(err)
	}
	out, err := listViews(ctx, eng, queue.Filter{States: st, Lane: lane, Limit: limit, Order: queue.NewestFirst})
	return out, l.wrap(err)
}

// Operation is GET /v1/queue/{id}.
func (l *Local) Operation(ctx context.Context, id string) (OpDetail, error) {
	eng, err := l.s.b.Journal()
	if err != nil {
		return OpDetail{}, l.wrap(err)
	}
	d, err := opDetail(ctx, eng, id)
	return d, l.wrap(err)
}

// Resolve is POST /v1/queue/{id}/resolve: journaled with the reason and
// operator, logged as the endpoint logs it.
func (l *Local) Resolve(ctx context.Context, id string, req ResolveRequest) (OpView, error) {
	eng, err := l.s.b.Journal()
	if err != nil {
		return OpView{}, l.wrap(err)
	}
	cur, err := eng.Get(ctx, id)
	if err != nil {
		return OpView{}, l.wrap(err)
	}
	final, err := resolveState(cur.Kind, req.State)
	if err != nil {
		return OpView{}, err
	}
	op, err := eng.Resolve(ctx, id, final, req.Reason, req.Operator)
	if err != nil {
		return OpView{}, l.wrap(err)
	}
	l.s.log.Warn().Str("op", op.ID).Str("state", string(op.State)).Str("operator", req.Operator).
		Str("reason", req.Reason).Str("via", "console").Msg("operation resolved by hand")
	return newOpView(op), nil
}

// SaleReceipt is GET /v1/receipt.
func (l *Local) SaleReceipt(ctx context.Context, lane, ref string) (SaleReceipt, error) {
	r, err := l.s.b.SaleReceipt(ctx, lane, ref)
	return r, l.wrap(err)
}

// Reconcile is GET /v1/reconcile: nil when the daily job is off.
func (l *Local) Reconcile() *recon.JobStatus {
	if rb, ok := l.s.b.(ReconBackend); ok {
		return rb.ReconStatus()
	}
	return nil
}

// SupportBundle is GET /v1/support-bundle: the redacted zip, written to w.
func (l *Local) SupportBundle(ctx context.Context, w io.Writer) error {
	l.s.log.Info().Str("via", "console").Msg("support bundle requested")
	return l.wrap(l.s.writeBundle(ctx, w))
}

// Subscribe delivers every journal event from now on (the console's live
// stream); ErrStarting before the daemon is ready.
func (l *Local) Subscribe() (*queue.Subscription, error) {
	eng, err := l.s.b.Journal()
	if err != nil {
		return nil, l.wrap(err)
	}
	return eng.Subscribe(), nil
}

// wrapLocal turns a backend or journal error into the *Error the HTTP
// endpoint would answer, so callers see the same stable codes. An
// internal error's cause is logged, never shown.
func (l *Local) wrap(err error) error {
	if err == nil {
		return nil
	}
	ce := asError(err)
	if ce.Code == CodeInternal {
		l.s.log.Error().Err(err).Str("via", "console").Msg("control request failed")
	}
	return ce
}
