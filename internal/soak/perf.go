package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"
)

// PerfConfig is a --perf run: throughput at several lane counts (no
// chaos, instant-pay codes), resident memory idle and busy, start-up time.
type PerfConfig struct {
	// Bin is the tillbridge binary to spawn.
	Bin string
	// Timings of the spawned daemons.
	Timings Timings
	// Steps are the lane counts and the sales each lane makes.
	Steps []PerfStepSpec
	// BusyLanes is the step whose daemon's memory is the "idle" (before
	// its sales) and "busy" figure; start-up is timed with as many lanes.
	BusyLanes int
	// StartRuns is how many times start-up is timed.
	StartRuns int
	// FramedRate of connections use the framed encoding.
	FramedRate float64
	// Seed seeds every random choice.
	Seed uint64
	// Progress receives one line per measurement (nil: none).
	Progress io.Writer
}

// PerfStepSpec is one throughput step.
type PerfStepSpec struct {
	Lanes, SalesPerLane int
}

// DefaultPerfConfig measures 1, 20 and 200 lanes on the production
// timings, memory with 20 busy lanes, and nine start-ups.
func DefaultPerfConfig() PerfConfig {
	return PerfConfig{Timings: ProductionTimings(),
		Steps:     []PerfStepSpec{{1, 300}, {20, 30}, {200, 5}},
		BusyLanes: 20, StartRuns: 9, FramedRate: 0.5, Seed: 1}
}

// PerfStep is the outcome of one throughput step.
type PerfStep struct {
	Lanes     int           `json:"lanes"`
	Sales     int64         `json:"sales"`
	Elapsed   time.Duration `json:"elapsed"`
	SalesPerS float64       `json:"sales_per_second"`
	// Errors counts requests that had to be repeated (no answer,
	// E_UNAVAILABLE, E_LANE_BUSY), unexpected ERRORs and sales not
	// APPROVED; ErrorKinds breaks them down. Verdict lists the violations
	// of the money checks.
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	// Bare is the same number of pays sent straight to the same sandbox
	// gateway by as many concurrent callers (alipay.Client.Pay), half
	// before and half after the step: the baseline of the ratio.
	Bare      time.Duration `json:"bare_elapsed"`
	BarePerS  float64       `json:"bare_pays_per_second"`
	BareCalls int           `json:"bare_pays"`
	Latency   Latency       `json:"latency"`
	RSSMax    int64         `json:"rss_max_bytes"` // largest VmRSS sampled during the step
	HWM       int64         `json:"hwm_bytes"`     // VmHWM after the step
	Checks    string        `json:"checks"`        // "N passed, N failed"
	Verdict   []string      `json:"violations,omitempty"`
	Report    *Report       `json:"-"`
	Start     time.Time     `json:"-"`
}

// Spread is the median, minimum and maximum of repeated measurements.
type Spread struct {
	Median, Min, Max time.Duration
}

// PerfReport holds the figures of docs/performance.md that the soak tool
// measures.
type PerfReport struct {
	Steps     []PerfStep `json:"steps"`
	IdleRSS   int64      `json:"idle_rss_bytes"` // VmRSS of a ready daemon with BusyLanes lanes, before any sale
	IdleHWM   int64      `json:"idle_hwm_bytes"`
	BusyLanes int        `json:"busy_lanes"`
	StartRuns int        `json:"start_runs"`
	Listening Spread     `json:"listening"` // spawn → the ECR port accepts
	Ready     Spread     `json:"ready"`     // spawn → PING answers ready
	// Exec is the baseline: spawn → exit of `tillbridge version`, the cost
	// of starting the binary and the Go runtime at all.
	Exec Spread `json:"exec"`
}

// Perf measures start-up, memory and throughput.
func Perf(ctx context.Context, cfg PerfConfig) (*PerfReport, error) {
	if cfg.Bin == "" {
		return nil, &ConfigError{"bin", "no daemon binary to spawn"}
	}
	rep := &PerfReport{BusyLanes: cfg.BusyLanes, StartRuns: cfg.StartRuns}
	var err error
	if rep.Listening, rep.Ready, rep.Exec, err = startupTimes(ctx, cfg); err != nil {
		return rep, err
	}
	cfg.logf("start-up: listening median %s, ready median %s, 'version' exec median %s (%d runs)",
		rep.Listening.Median, rep.Ready.Median, rep.Exec.Median, cfg.StartRuns)
	for _, st := range cfg.Steps {
		if err := perfDaemon(ctx, cfg, st, rep, st.Lanes == cfg.BusyLanes); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (cfg PerfConfig) logf(format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "perf: "+format+"\n", args...)
	}
}

// startupTimes starts a daemon StartRuns times on a fresh data directory
// and times it, alternating with the baseline: `tillbridge version`.
func startupTimes(ctx context.Context, cfg PerfConfig) (listening, ready, exec Spread, err error) {
	var ls, rs, es []time.Duration
	for range cfg.StartRuns {
		e, err := execTime(ctx, cfg.Bin)
		if err != nil {
			return listening, ready, exec, err
		}
		st, err := startOnce(ctx, cfg)
		if err != nil {
			return listening, ready, exec, err
		}
		ls, rs, es = append(ls, st.Listening), append(rs, st.Ready), append(es, e)
	}
	return spread(ls), spread(rs), spread(es), nil
}

// startOnce starts and stops a daemon on a fresh data directory.
func startOnce(ctx context.Context, cfg PerfConfig) (Startup, error) {
	data, err := os.MkdirTemp("", "tillbridge-perf-")
	if err != nil {
		return Startup{}, fmt.Errorf("perf: %w", err)
	}
	defer os.RemoveAll(data)
	p, st, err := StartProc(ctx, ProcConfig{Bin: cfg.Bin, Data: data, Lanes: cfg.BusyLanes, Timings: cfg.Timings})
	if err != nil {
		return st, err
	}
	return st, p.Stop(5 * time.Second)
}

// execTime times spawn → exit of `bin version`.
func execTime(ctx context.Context, bin string) (time.Duration, error) {
	t0 := time.Now()
	if err := exec.CommandContext(ctx, bin, "version").Run(); err != nil {
		return 0, fmt.Errorf("perf: %s version: %w", bin, err)
	}
	return time.Since(t0), nil
}

func spread(ds []time.Duration) Spread {
	s := slices.Clone(ds)
	slices.Sort(s)
	return Spread{Median: s[len(s)/2], Min: s[0], Max: s[len(s)-1]}
}

// perfDaemon starts a daemon on a fresh data directory (so every step
// meets an empty journal and ledger) with the step's lanes, measures its
// idle memory when idle is set, and runs the step on it.
func perfDaemon(ctx context.Context, cfg PerfConfig, s PerfStepSpec, rep *PerfReport, idle bool) (err error) {
	data, err := os.MkdirTemp("", "tillbridge-perf-")
	if err != nil {
		return fmt.Errorf("perf: %w", err)
	}
	defer os.RemoveAll(data)
	p, _, err := StartProc(ctx, ProcConfig{Bin: cfg.Bin, Data: data, Lanes: s.Lanes, Timings: cfg.Timings})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Stop(5*time.Second)) }()
	if idle {
		_ = sleep(ctx, time.Second)
		if rep.IdleRSS, rep.IdleHWM, err = p.Memory(); err != nil {
			return err
		}
		cfg.logf("idle: VmRSS %s, VmHWM %s (%d lanes)", mib(rep.IdleRSS), mib(rep.IdleHWM), s.Lanes)
	}
	tg := &target{proc: p, addr: p.ECRAddr(), url: p.SandboxURL(), data: data}
	st, err := perfStep(ctx, cfg, tg, s)
	if err != nil {
		return err
	}
	rep.Steps = append(rep.Steps, st)
	cfg.logf("%d lanes: %d sales in %s = %.1f sales/s (bare gateway %.1f pays/s), %d errors %v, p50 %s p99 %s, VmRSS max %s, VmHWM %s, %s",
		st.Lanes, st.Sales, st.Elapsed.Round(time.Millisecond), st.SalesPerS, st.BarePerS, st.Errors, st.ErrorKinds,
		st.Latency.P50.Round(100*time.Microsecond), st.Latency.P99.Round(100*time.Microsecond), mib(st.RSSMax), mib(st.HWM), st.Checks)
	return nil
}

// perfStep drives one step (instant-pay codes, no chaos, no refunds)
// between two halves of the bare-gateway baseline, sampling the daemon's
// memory while it drives, then checks the money as a soak does.
func perfStep(ctx context.Context, cfg PerfConfig, tg *target, s PerfStepSpec) (PerfStep, error) {
	mix, _ := ParseMix(PerfMix)
	sc := Config{Bin: cfg.Bin, Timings: cfg.Timings, Lanes: s.Lanes, Sales: s.SalesPerLane, Mix: mix,
		Currencies: []string{"HKD"}, FramedRate: cfg.FramedRate, Duration: 10 * time.Minute,
		Settle: 30 * time.Second, Seed: cfg.Seed}
	gw, err := newBare(tg)
	if err != nil {
		return PerfStep{}, err
	}
	half := max(s.SalesPerLane/2, 1)
	b1, err := gw.run(ctx, s.Lanes, half)
	if err != nil {
		return PerfStep{}, err
	}
	mem := sampleMemory(tg.proc, 50*time.Millisecond)
	r, err := drive(ctx, &sc, tg)
	rssMax := mem.stop()
	if err != nil {
		return PerfStep{}, err
	}
	b2, err := gw.run(ctx, s.Lanes, half)
	if err != nil {
		return PerfStep{}, err
	}
	st := stepOf(r, s.Lanes)
	st.RSSMax, st.Bare, st.BareCalls = rssMax, b1+b2, 2*half*s.Lanes
	st.BarePerS = float64(st.BareCalls) / st.Bare.Seconds()
	_, st.HWM, _ = tg.proc.Memory()
	return st, nil
}

// stepOf summarises a step's soak report.
func stepOf(r *Report, lanes int) PerfStep {
	st := PerfStep{Lanes: lanes, Sales: r.SalesDone, Elapsed: r.Drive, SalesPerS: r.SalesPerS, Report: r,
		Checks: fmt.Sprintf("%d passed, %d failed", r.Verdict.Passed(), r.Verdict.Failed())}
	st.ErrorKinds = map[string]int64{"no answer": r.NoAnswer, "E_UNAVAILABLE": r.Unavail, "E_LANE_BUSY": r.LaneBusy,
		"not APPROVED": r.NotPaid}
	for _, c := range r.Verdict.Checks {
		st.Verdict = append(st.Verdict, c.Violations...)
		if c.Name == CheckErrors {
			st.ErrorKinds["unexpected ERROR"] = int64(len(c.Violations))
		}
	}
	for k, n := range st.ErrorKinds {
		st.Errors += n
		if n == 0 {
			delete(st.ErrorKinds, k)
		}
	}
	for _, l := range r.Latency {
		if l.Class == "all" {
			st.Latency = l
		}
	}
	return st
}

// sampler polls a daemon's VmRSS and keeps the largest value.
type sampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	max  int64
}

func sampleMemory(p *Proc, every time.Duration) *sampler {
	s := &sampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				if rss, _, err := p.Memory(); err == nil {
					s.max = max(s.max, rss)
				}
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the largest VmRSS seen.
func (s *sampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.max
}

// mib renders bytes as MiB with one decimal.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
