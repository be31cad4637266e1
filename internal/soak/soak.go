// Package soak is the proof that tillbridge keeps the money right while
// everything fails: it drives many lanes of sales through a real daemon
// over the ECR protocol (both encodings, every sandbox scenario, refunds
// and cancels), injects chaos (gateway fault windows, SIGKILL and restart
// of the daemon, ECR connections dropped mid-sale), lets every operation
// settle, and checks the sandbox ledger, the journal and what each ECR was
// told against the money-safety rules of DESIGN.md. It also measures the
// figures of docs/performance.md (Perf).
package soak

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// Report is the outcome of a soak run.
type Report struct {
	Tag        string        `json:"tag"`
	Data       string        `json:"data"`
	Lanes      int           `json:"lanes"`
	Sales      int           `json:"sales_per_lane"`
	Seed       uint64        `json:"seed"`
	Mix        string        `json:"mix"`
	Chaos      Chaos         `json:"chaos"`
	Drive      time.Duration `json:"drive"`
	SalesDone  int64         `json:"sales_done"`
	SalesPerS  float64       `json:"sales_per_second"`
	Refunds    int64         `json:"refunds"`
	Cancels    int64         `json:"cancels"`
	Faults     int64         `json:"faults"`
	Kills      int64         `json:"kills"`
	Drops      int64         `json:"drops"`
	Reconnects int64         `json:"reconnects"`
	Requests   int64         `json:"requests"`
	NoAnswer   int64         `json:"no_answer"`   // requests repeated after no answer
	Unavail    int64         `json:"unavailable"` // requests repeated after E_UNAVAILABLE
	LaneBusy   int64         `json:"lane_busy"`   // requests repeated after E_LANE_BUSY
	NotPaid    int64         `json:"not_paid"`    // sales whose RESULT was not APPROVED
	Unsettled  int           `json:"unsettled"`
	Latency    []Latency     `json:"latency"`
	Verdict    Verdict       `json:"verdict"`
}

// Passed reports whether every check passed.
func (r *Report) Passed() bool { return r.Verdict.Failed() == 0 }

// target is the daemon a run drives.
type target struct {
	proc *Proc // nil when attached
	addr string
	url  string
	data string
	temp bool // data is a temporary directory of this run
}

// Run performs one soak: start (or attach to) the daemon, drive, inject
// chaos, settle, check. A violation is in the Report, not an error; the
// error is for a run that could not be carried out.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tg, err := startTarget(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep, err := drive(ctx, &cfg, tg)
	if tg.proc != nil {
		err = errors.Join(err, tg.proc.Stop(5*time.Second))
	}
	if tg.temp && err == nil && rep.Passed() && !cfg.KeepData {
		_ = os.RemoveAll(tg.data)
	}
	return rep, err
}

// startTarget spawns the daemon on a temporary data directory, or
// describes the attached one.
func startTarget(ctx context.Context, cfg Config) (*target, error) {
	if cfg.Attach != nil {
		a := cfg.Attach
		if err := waitReady(ctx, a.ECRAddr, 10*time.Second); err != nil {
			return nil, err
		}
		return &target{addr: a.ECRAddr, url: a.SandboxURL, data: a.Data}, nil
	}
	data, err := os.MkdirTemp("", "tillbridge-soak-")
	if err != nil {
		return nil, fmt.Errorf("soak: data dir: %w", err)
	}
	p, _, err := StartProc(ctx, ProcConfig{Bin: cfg.Bin, Data: data, Lanes: cfg.Lanes, Timings: cfg.Timings})
	if err != nil {
		return nil, fmt.Errorf("soak: %w (data in %s)", err, data)
	}
	return &target{proc: p, addr: p.ECRAddr(), url: p.SandboxURL(), data: data, temp: true}, nil
}

// NotReadyError reports an attached daemon that does not answer PING
// "ready".
type NotReadyError struct {
	// Addr is the ECR address tried.
	Addr string
}

// Error implements error.
func (e *NotReadyError) Error() string {
	return "soak: no ready daemon at " + e.Addr + " (is it running with --sandbox?)"
}

// waitReady waits up to bound for the daemon at addr to answer PING ready.
func waitReady(ctx context.Context, addr string, bound time.Duration) error {
	for end := time.Now().Add(bound); time.Now().Before(end); {
		if ready(ctx, addr) {
			return nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return &NotReadyError{Addr: addr}
}

// runTag makes the run's tag: refs and subjects carry it, so an attached
// journal and ledger can hold other runs.
func runTag(seed uint64) string {
	return "k" + strconv.FormatInt(time.Now().UnixMilli()%1e9, 36) + strconv.FormatUint(seed%1296, 36)
}

// drive runs the phases against a started target.
func drive(ctx context.Context, cfg *Config, tg *target) (*Report, error) {
	stats := &Stats{}
	stats.Planned.Store(int64(cfg.Lanes * cfg.Sales))
	hc := &http.Client{Timeout: 30 * time.Second}
	stopNew := make(chan struct{})
	d := &driver{cfg: cfg, addr: tg.addr, tag: runTag(cfg.Seed), stats: stats, rec: newRecorder(), stopNew: stopNew}
	rep := &Report{Tag: d.tag, Data: tg.data, Lanes: cfg.Lanes, Sales: cfg.Sales, Seed: cfg.Seed,
		Mix: cfg.Mix.String(), Chaos: cfg.Chaos}
	prog := newProgress(cfg, stats)
	defer prog.stop()
	prog.start()

	hard, cancel := context.WithTimeout(ctx, cfg.Duration+2*cfg.exchangeBound()+time.Minute)
	defer cancel()
	start := time.Now()
	stopTimer := time.AfterFunc(cfg.Duration, func() { close(stopNew) })
	ch := &chaos{cfg: cfg, proc: tg.proc, url: tg.url, http: hc, stats: stats, log: prog.note}
	stopChaos := make(chan struct{})
	var chaosDone sync.WaitGroup
	chaosDone.Add(1)
	go func() { defer chaosDone.Done(); ch.run(hard, stopChaos) }()
	d.runLanes(hard)
	rep.Drive = time.Since(start)
	if stopTimer.Stop() {
		close(stopNew)
	}
	close(stopChaos)
	chaosDone.Wait()
	if err := afterChaos(ctx, ch, tg); err != nil {
		return rep, err
	}
	prog.phase("settling")
	err := finish(ctx, d, tg, hc, rep)
	fillStats(rep, stats)
	return rep, err
}

// afterChaos closes the fault windows and makes sure the daemon runs.
func afterChaos(ctx context.Context, ch *chaos, tg *target) error {
	if tg.proc != nil && !tg.proc.Running() {
		return errors.New("soak: the daemon is not running after the chaos phase")
	}
	var err error
	for range 20 {
		if err = ch.clearFaults(ctx); err == nil {
			return nil
		}
		_ = sleep(ctx, 250*time.Millisecond)
	}
	return fmt.Errorf("soak: clear faults: %w", err)
}

// finish waits for the journal to settle, asks the closing STATUS, reads
// the three sources and checks them.
func finish(ctx context.Context, d *driver, tg *target, hc *http.Client, rep *Report) error {
	j, err := openJournal(tg.data)
	if err != nil {
		return err
	}
	defer j.close()
	if rep.Unsettled, err = j.settle(ctx, d.tag, d.cfg.Settle); err != nil {
		return err
	}
	d.closingStatus(ctx)
	ops, err := j.ops(ctx, d.tag)
	if err != nil {
		return err
	}
	trades, err := fetchLedger(ctx, hc, tg.url)
	if err != nil {
		return err
	}
	told, errs := d.rec.snapshot()
	rep.Verdict = Check(Sources{Trades: ownTrades(trades, ops, d.tag), Ops: ops, Told: told,
		Requests: int(d.stats.Requests.Load()), Errors: errs})
	rep.Latency = d.rec.latencies()
	return nil
}

func fillStats(rep *Report, s *Stats) {
	rep.SalesDone, rep.Refunds, rep.Cancels = s.Done.Load(), s.Refunds.Load(), s.Cancels.Load()
	rep.Faults, rep.Kills, rep.Drops = s.Faults.Load(), s.Kills.Load(), s.Drops.Load()
	rep.Reconnects, rep.Requests = s.Reconnects.Load(), s.Requests.Load()
	rep.NoAnswer, rep.Unavail, rep.LaneBusy = s.NoAnswer.Load(), s.Unavailable.Load(), s.LaneBusy.Load()
	rep.NotPaid = s.NotPaid.Load()
	if rep.Drive > 0 {
		rep.SalesPerS = float64(rep.SalesDone) / rep.Drive.Seconds()
	}
}
