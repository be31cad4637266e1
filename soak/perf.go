package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
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
}

// Perf measures start-up, memory and throughput.
func Perf(ctx context.Context, cfg PerfConfig) (*PerfReport, error) {
	if cfg.Bin == "" {
		return nil, &ConfigError{"bin", "no daemon binary to spawn"}
	}
	rep := &PerfReport{BusyLanes: cfg.BusyLanes, StartRuns: cfg.StartRuns}
	var err error
	if rep.Listening, rep.Ready, err = startupTimes(ctx, cfg); err != nil {
		return rep, err
	}
	cfg.logf("start-up: listening median %s, ready median %s (%d runs)", rep.Listening.Median, rep.Ready.Median, cfg.StartRuns)
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
// and times it.
func startupTimes(ctx context.Context, cfg PerfConfig) (Spread, Spread, error) {
	var listening, ready []time.Duration
	for range cfg.StartRuns {
		data, err := os.MkdirTemp("", "tillbridge-perf-")
		if err != nil {
			return Spread{}, Spread{}, fmt.Errorf("perf: %w", err)
		}
		p, st, err := StartProc(ctx, ProcConfig{Bin: cfg.Bin, Data: data, Lanes: cfg.BusyLanes, Timings: cfg.Timings})
		if err == nil {
			err = p.Stop(5 * time.Second)
		}
		_ = os.RemoveAll(data)
		if err != nil {
			return Spread{}, Spread{}, err
		}
		listening, ready = append(listening, st.Listening), append(ready, st.Ready)
	}
	return spread(listening), spread(ready), nil
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
// while sampling the daemon's memory, then checks the money as a soak
// does.
func perfStep(ctx context.Context, cfg PerfConfig, tg *target, s PerfStepSpec) (PerfStep, error) {
	mix, _ := ParseMix(PerfMix)
	sc := Config{Bin: cfg.Bin, Timings: cfg.Timings, Lanes: s.Lanes, Sales: s.SalesPerLane, Mix: mix,
		Currencies: []string{"HKD"}, FramedRate: cfg.FramedRate, Duration: 10 * time.Minute,
		Settle: 30 * time.Second, Seed: cfg.Seed}
	var (
		mu     sync.Mutex
		rssMax int64
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if rss, _, err := tg.proc.Memory(); err == nil {
					mu.Lock()
					rssMax = max(rssMax, rss)
					mu.Unlock()
				}
			}
		}
	}()
	gw, err := newBare(tg)
	if err != nil {
		return PerfStep{}, err
	}
	half := max(s.SalesPerLane/2, 1)
	b1, err := gw.run(ctx, s.Lanes, half)
	if err != nil {
		return PerfStep{}, err
	}
	r, err := drive(ctx, &sc, tg)
	close(done)
	wg.Wait()
	if err != nil {
		return PerfStep{}, err
	}
	b2, err := gw.run(ctx, s.Lanes, half)
	if err != nil {
		return PerfStep{}, err
	}
	st := PerfStep{Lanes: s.Lanes, Sales: r.SalesDone, Elapsed: r.Drive, SalesPerS: r.SalesPerS, RSSMax: rssMax,
		Bare: b1 + b2, BareCalls: 2 * half * s.Lanes,
		Checks: fmt.Sprintf("%d passed, %d failed", r.Verdict.Passed(), r.Verdict.Failed()), Report: r}
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
	st.BarePerS = float64(st.BareCalls) / st.Bare.Seconds()
	_, st.HWM, _ = tg.proc.Memory()
	return st, nil
}

// mib renders bytes as MiB with one decimal.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Failed reports whether any step had errors or violations.
func (r *PerfReport) Failed() bool {
	for _, s := range r.Steps {
		if s.Errors > 0 || len(s.Verdict) > 0 {
			return true
		}
	}
	return false
}

// WritePerfText prints the perf figures as a table.
func WritePerfText(w io.Writer, r *PerfReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "start-up (%d runs): listening median %s (min %s, max %s); ready median %s (min %s, max %s)\n",
		r.StartRuns, ms(r.Listening.Median), ms(r.Listening.Min), ms(r.Listening.Max), ms(r.Ready.Median), ms(r.Ready.Min), ms(r.Ready.Max))
	fmt.Fprintf(&b, "resident memory idle (%d lanes configured): VmRSS %s, VmHWM %s\n\n", r.BusyLanes, mib(r.IdleRSS), mib(r.IdleHWM))
	tw := tabwriter.NewWriter(&b, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "lanes\tsales\telapsed\tsales/s\tbare pays/s\tratio\tp50\tp99\terrors\tVmRSS max\tVmHWM\tchecks\t")
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f\t%.1f\t%.2f\t%s\t%s\t%d\t%s\t%s\t%s\t\n", s.Lanes, s.Sales, ms(s.Elapsed), s.SalesPerS,
			s.BarePerS, s.SalesPerS/s.BarePerS, ms(s.Latency.P50), ms(s.Latency.P99), s.Errors, mib(s.RSSMax), mib(s.HWM), s.Checks)
	}
	tw.Flush()
	for _, s := range r.Steps {
		for _, k := range sortedKeys(s.ErrorKinds) {
			fmt.Fprintf(&b, "errors (%d lanes): %d %s\n", s.Lanes, s.ErrorKinds[k], k)
		}
	}
	for _, s := range r.Steps {
		for _, v := range s.Verdict {
			fmt.Fprintf(&b, "VIOLATION (%d lanes): %s\n", s.Lanes, v)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ms renders a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
