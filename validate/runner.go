package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
)

// Gateways a run can be against.
const (
	// AgainstSandbox runs every case unattended on the in-process sandbox.
	AgainstSandbox = "sandbox"
	// AgainstConfigured runs against the configured gateway (Alipay's
	// sandbox or live), asking a person where one must act.
	AgainstConfigured = "configured"
)

// UsageError is a bad option; the command exits with its usage code.
type UsageError struct{ Msg string }

// Error returns the message.
func (e *UsageError) Error() string { return e.Msg }

// dataMarker marks a data directory a run created, so the next run may
// clear it (and never clears anything else).
const dataMarker = ".tillbridge-validate"

// Options configure a run.
type Options struct {
	// Against is AgainstSandbox (default) or AgainstConfigured.
	Against string
	// Config is the venue's configuration: required against the
	// configured gateway; against the sandbox its merchant fields and
	// receipt layout are used.
	Config *daemon.Config
	// OutDir receives the report files and the run's data directory
	// (OutDir/data: journal, sandbox state, receipts, daemon log).
	OutDir string
	// Timings of the run (QuickTimings when zero).
	Timings Timings
	// Cases selects cases by ID (all when empty).
	Cases []string
	// Executable is the tillbridge binary the kill -9 case starts as a
	// subprocess; empty: that case does not apply.
	Executable string
	// In and Out carry the prompts of an interactive run.
	In  io.Reader
	Out io.Writer
	// StepTimeout bounds each step a person must do (default 2 minutes).
	StepTimeout time.Duration
	// Amount and Currency are the test sale of a configured run (default
	// 1.00 of the currency; HKD).
	Amount   int64
	Currency string
	// Progress, when not nil, gets one line per case as it ends.
	Progress io.Writer
	// Version is written into the report.
	Version string
}

func (o *Options) defaults() error {
	if o.Against == "" {
		o.Against = AgainstSandbox
	}
	if o.Against != AgainstSandbox && o.Against != AgainstConfigured {
		return &UsageError{Msg: fmt.Sprintf("--against %q: want sandbox or configured", o.Against)}
	}
	if o.Timings.Payment.PayDeadline == 0 {
		o.Timings = QuickTimings()
		if o.Against == AgainstConfigured && o.Config != nil {
			o.Timings = Timings{Payment: o.Config.Payment, GatewayTimeout: o.Config.Gateway.Timeout}
		}
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 2 * time.Minute
	}
	if o.Currency == "" {
		o.Currency = "HKD"
	}
	if o.Amount <= 0 {
		o.Amount = 100
	}
	if o.OutDir == "" {
		return &UsageError{Msg: "an output directory is required"}
	}
	if o.In == nil {
		o.In = strings.NewReader("")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	known := map[string]bool{}
	for _, c := range Cases() {
		known[c.ID] = true
	}
	for _, id := range o.Cases {
		if !known[id] {
			return &UsageError{Msg: fmt.Sprintf("unknown case %q (see tillbridge validate --list)", id)}
		}
	}
	return nil
}

// Run runs the pre-flight checks and the selected cases through the real
// daemon and returns the report. An error means the run itself could not
// be made (bad options, the daemon did not start); failed cases are in
// the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("output dir: %w", err)
	}
	dataDir, err := freshDir(filepath.Join(o.OutDir, "data"))
	if err != nil {
		return nil, err
	}
	rep := &Report{Against: o.Against, Started: time.Now().UTC(), Version: o.Version}
	e, err := startEnv(ctx, &o, filepath.Join(dataDir, "main"))
	var ue *UsageError
	if errors.As(err, &ue) {
		return nil, err
	}
	if err != nil { // the report says why, and no case runs
		if o.Against == AgainstConfigured {
			g := o.Config.Gateway
			rep.Gateway, rep.Partner, rep.SignType = g.URL, g.Partner, g.SignType
			rep.Preflight = staticChecks(g, true)
		}
		rep.Preflight = append(rep.Preflight, Check{Name: CheckDaemonStarts, Detail: err.Error()})
		for _, spec := range selected(o.Cases) {
			rep.Cases = append(rep.Cases, CaseResult{ID: spec.ID, Title: spec.Title, Expect: spec.Expect,
				Started: time.Now(), Verdict: Fail, Reason: "not run: the daemon did not start"})
		}
		rep.Finished = time.Now().UTC()
		rep.computePassed()
		return rep, nil
	}
	defer e.close()
	rep.Gateway, rep.Partner, rep.SignType = e.origURL, e.cfg.Gateway.Partner, e.cfg.Gateway.SignType
	var p *prompter // only a configured run asks a person (and reads stdin)
	if o.Against == AgainstConfigured {
		p = newPrompter(o.In, o.Out, o.StepTimeout)
		defer p.close()
	}
	rep.Preflight = preflight(ctx, e)
	ok := true
	for _, c := range rep.Preflight {
		ok = ok && c.OK
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%-4s pre-flight: %s — %s\n", okWord(c.OK), c.Name, c.Detail)
		}
	}
	if ok && o.Against == AgainstConfigured {
		fmt.Fprintf(o.Out, "\nThis run takes REAL payments of %d minor units of %s through %s (partner %s);\n"+
			"every one is refunded at the end. Each step waits at most %s.\n", o.Amount, o.Currency, e.origURL,
			e.cfg.Gateway.Partner, o.StepTimeout)
	}
	prefix := "V" + time.Now().UTC().Format("150405")
	var paid []paidSale
	for _, spec := range selected(o.Cases) {
		res := CaseResult{ID: spec.ID, Title: spec.Title, Expect: spec.Expect, Started: time.Now()}
		switch {
		case !ok:
			res.Verdict, res.Reason = Fail, "not run: a pre-flight check failed"
		case o.Against == AgainstConfigured && spec.Configured == nil:
			res.Verdict, res.Reason = NotApplicable, "sandbox only: "+spec.Why
		case spec.Kill9 && o.Executable == "":
			res.Verdict, res.Reason = NotApplicable, "no tillbridge executable to start as a subprocess"
		case spec.Kill9:
			res = runKill9(ctx, &o, spec, filepath.Join(dataDir, "kill9"), prefix)
		default:
			c := &caseRun{o: &o, e: e, res: &res, p: p, lane: "1", prefix: prefix}
			c.printed = c.printerSize()
			fn := spec.Sandbox
			if o.Against == AgainstConfigured {
				fn = spec.Configured
			}
			err := runCase(ctx, c, fn)
			c.finish(ctx, err)
			paid = append(paid, c.paidSales()...)
		}
		rep.Cases = append(rep.Cases, res)
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%-4s %-14s %s%s\n", res.Verdict, res.ID, res.Title, reasonSuffix(res))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if o.Against == AgainstConfigured { // also after Ctrl-C: test money goes back
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		rep.Cleanup = refundAll(cctx, e, paid, prefix)
		cancel()
	}
	rep.Finished = time.Now().UTC()
	rep.computePassed()
	return rep, nil
}

func reasonSuffix(r CaseResult) string {
	if r.Verdict == Pass || r.Reason == "" {
		return ""
	}
	return " — " + r.Reason
}

// runCase runs fn, turning a panic into a failed case.
func runCase(ctx context.Context, c *caseRun, fn func(context.Context, *caseRun) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("case panicked: %v", r)
		}
	}()
	return fn(ctx, c)
}

// freshDir returns dir, emptied if an earlier run made it; a directory
// that exists without the marker is refused.
func freshDir(dir string) (string, error) {
	if _, err := os.Stat(dir); err == nil {
		if _, err := os.Stat(filepath.Join(dir, dataMarker)); err != nil {
			return "", &UsageError{Msg: fmt.Sprintf("%s exists and was not made by tillbridge validate; choose another --out", dir)}
		}
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("clear %s: %w", dir, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, dataMarker), []byte("made by tillbridge validate\n"), 0o600); err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	return dir, nil
}
