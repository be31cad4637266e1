package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tillbridge/tillbridge/internal/soak"
)

func soakCommand() command {
	return command{
		name:    "soak",
		summary: "drive many lanes through the daemon under chaos and check no money was lost or taken twice",
		run:     runSoak,
	}
}

const soakUsage = `usage: tillbridge soak [--short] [--lanes N] [--sales M] [--duration D] [--mix SPEC]
                      [--refund-rate R] [--cancel-rate R] [--framed-rate R] [--drop-rate R]
                      [--chaos-faults] [--chaos-kill] [--chaos-drop] [--seed N] [--settle D] [--json]
                      [--attach ECR_ADDR --sandbox-url URL --data DIR] [--bin PATH] [--keep]
       tillbridge soak --perf [--json]

Starts 'tillbridge run --sandbox' (this binary, or --bin) on free loopback
ports with a temporary data directory and scaled-down timings — or attaches
to a running sandbox daemon — and drives lanes × sales through the ECR
protocol in both encodings, with the sandbox scenario codes mixed at the
--mix rates, refunds and cancels among them. Chaos, each switchable: gateway
fault windows (down, slow, system_error), SIGKILL of the daemon and restart
on the same data, ECR connections dropped mid-sale (the client comes back
with STATUS for the same ref). Then it waits for every operation to settle
and checks the sandbox ledger, the journal and what each ECR was told. It
prints a table and exits 1 on any violation. The last line is always
"N passed, N failed" (checks).

Every chaos switch is on by default; naming switches turns on only those
(--chaos-kill --chaos-drop), and --chaos-faults=false turns one off.
--short is the run of 'make test' (8 lanes, about 40 s); the default is the
run of 'make soak' (20 lanes, 5 minutes). --perf measures the figures of
docs/performance.md instead (no chaos).

Flags:
`

// soakFlags are the flags of `tillbridge soak`.
type soakFlags struct {
	short, perf, asJSON, keep     bool
	attach, sandboxURL, data, bin string
	lanes, sales                  int
	mix                           string
	refund, cancel, framed, drop  float64
	faults, kills, drops          bool
	duration, settle              time.Duration
	seed                          uint64
	fs                            *flag.FlagSet
}

func (f *soakFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.BoolVar(&f.short, "short", false, "the short run of make test (about 40 s)")
	fs.BoolVar(&f.perf, "perf", false, "measure the performance figures instead (no chaos)")
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&f.keep, "keep", false, "keep the temporary data directory even when the run passes")
	fs.StringVar(&f.attach, "attach", "", "drive the running daemon at this ECR `address` instead of spawning one")
	fs.StringVar(&f.sandboxURL, "sandbox-url", "", "with --attach: the sandbox's base `URL` (fault and ledger API)")
	fs.StringVar(&f.data, "data", "", "with --attach: the daemon's data `dir` (its journal)")
	fs.StringVar(&f.bin, "bin", "", "tillbridge `binary` to spawn (default: this one)")
	fs.IntVar(&f.lanes, "lanes", 0, "lanes driven at once (default 20; --short 8)")
	fs.IntVar(&f.sales, "sales", 0, "sales per lane at most (default: until --duration; --short 40)")
	fs.StringVar(&f.mix, "mix", soak.DefaultMix, "scenario `code:weight` list (last two digits of the buyer code)")
	fs.Float64Var(&f.refund, "refund-rate", 0.1, "share of approved sales refunded (in full or in part)")
	fs.Float64Var(&f.cancel, "cancel-rate", 0.05, "share of sales cancelled (mid-flight for slow scenarios, else after APPROVED)")
	fs.Float64Var(&f.framed, "framed-rate", 0.5, "share of ECR connections using the legacy STX/ETX framing")
	fs.Float64Var(&f.drop, "drop-rate", 0, "with --chaos-drop: share of sales whose connection drops (default 0.05; --short 0.1)")
	fs.BoolVar(&f.faults, "chaos-faults", false, "gateway fault windows through the sandbox fault API")
	fs.BoolVar(&f.kills, "chaos-kill", false, "SIGKILL the daemon at random moments and restart it")
	fs.BoolVar(&f.drops, "chaos-drop", false, "drop ECR connections mid-sale; clients recover with STATUS")
	fs.DurationVar(&f.duration, "duration", 0, "bound of the drive phase (default 5m; --short 35s)")
	fs.DurationVar(&f.settle, "settle", 0, "bound of the wait for every operation to be final (default 90s; attached: 6m)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of every random choice")
}

// config builds the soak configuration from the flags.
func (f *soakFlags) config() (soak.Config, error) {
	cfg := soak.DefaultConfig()
	if f.short {
		cfg = soak.ShortConfig()
	}
	mix, err := soak.ParseMix(f.mix)
	if err != nil {
		return cfg, err
	}
	cfg.Mix, cfg.Seed, cfg.KeepData = mix, f.seed, f.keep
	cfg.RefundRate, cfg.CancelRate, cfg.FramedRate = f.refund, f.cancel, f.framed
	setIf(&cfg.Lanes, f.lanes)
	setIf(&cfg.Sales, f.sales)
	setIf(&cfg.Duration, f.duration)
	setIf(&cfg.DropRate, f.drop)
	f.chaos(&cfg.Chaos)
	if f.attach != "" || f.sandboxURL != "" {
		cfg.Attach = &soak.Attach{ECRAddr: f.attach, SandboxURL: f.sandboxURL, Data: f.data}
		cfg.Chaos.Kills = false
		cfg.Settle = 6 * time.Minute // production backoff reaches 5 min
	} else if cfg.Bin, err = f.binary(); err != nil {
		return cfg, err
	}
	setIf(&cfg.Settle, f.settle)
	return cfg, nil
}

// chaos applies the --chaos-* switches: naming any switch as true turns
// on only the switches named true; otherwise every switch is on except
// those named false.
func (f *soakFlags) chaos(c *soak.Chaos) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	vals := map[string]bool{"chaos-faults": f.faults, "chaos-kill": f.kills, "chaos-drop": f.drops}
	anyOn := false
	for name, v := range vals {
		anyOn = anyOn || (set[name] && v)
	}
	on := func(name string) bool {
		if anyOn {
			return set[name] && vals[name]
		}
		return !set[name] || vals[name]
	}
	c.Faults, c.Kills, c.Drops = on("chaos-faults"), on("chaos-kill"), on("chaos-drop")
}

func (f *soakFlags) binary() (string, error) {
	if f.bin != "" {
		return f.bin, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this binary (use --bin): %w", err)
	}
	return exe, nil
}

func setIf[T comparable](p *T, v T) {
	var zero T
	if v != zero {
		*p = v
	}
}

func runSoak(ctx context.Context, cio cmdIO, args []string) error {
	var f soakFlags
	fs := newFlagSet("soak", soakUsage, cio)
	f.register(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if f.perf {
		return runPerf(ctx, cio, &f)
	}
	cfg, err := f.config()
	if err != nil {
		return usageErr(err)
	}
	cfg.Progress, cfg.TTY = cio.stderr, isTerminal(cio.stderr)
	rep, err := soak.Run(ctx, cfg)
	if err != nil {
		return soakFailed(cio, rep, err)
	}
	if err := printSoak(cio, rep, f.asJSON); err != nil {
		return err
	}
	if !rep.Passed() {
		return quietExit(exitFailure) // the report's last line says it
	}
	return nil
}

// soakFailed reports a run that could not be carried out: a bad
// configuration is a usage error (2); otherwise the error goes to stderr
// and stdout still ends with the "N passed, N failed" line CI reads, the
// run itself counted as failed (exit 3 when the attached daemon is not
// there, else 1).
func soakFailed(cio cmdIO, rep *soak.Report, err error) error {
	var (
		ce *soak.ConfigError
		nr *soak.NotReadyError
	)
	if errors.As(err, &ce) {
		return usageErr(err)
	}
	fmt.Fprintf(cio.stderr, "tillbridge soak: %v\n", err)
	if rep != nil && rep.Data != "" {
		fmt.Fprintf(cio.stderr, "tillbridge soak: data kept in %s\n", rep.Data)
	}
	fmt.Fprintln(cio.stdout, "0 passed, 1 failed")
	if errors.As(err, &nr) {
		return quietExit(exitNoDaemon)
	}
	return quietExit(exitFailure)
}

// quietExit is an exit code whose reason was already printed.
func quietExit(code int) error { return &exitError{code: code, err: errors.New("")} }

func printSoak(cio cmdIO, rep *soak.Report, asJSON bool) error {
	if !asJSON {
		return soak.WriteText(cio.stdout, rep)
	}
	enc := json.NewEncoder(cio.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runPerf measures the figures of docs/performance.md.
func runPerf(ctx context.Context, cio cmdIO, f *soakFlags) error {
	cfg := soak.DefaultPerfConfig()
	var err error
	if cfg.Bin, err = f.binary(); err != nil {
		return err
	}
	cfg.Seed, cfg.FramedRate, cfg.Progress = f.seed, f.framed, cio.stderr
	rep, err := soak.Perf(ctx, cfg)
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(cio.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = soak.WritePerfText(cio.stdout, rep)
	}
	if err == nil && rep.Failed() {
		fmt.Fprintln(cio.stderr, "tillbridge soak --perf: errors or violations during the run (see the table)")
		err = quietExit(exitFailure)
	}
	return err
}
