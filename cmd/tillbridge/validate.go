package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/installer"
	"github.com/tillbridge/tillbridge/validate"
)

func validateCommand() command {
	return command{name: "validate", summary: "go-live certification run (iValidate cases) with a report for the acquirer",
		run: runValidate}
}

const validateUsage = `usage: tillbridge validate [--config FILE] [--against sandbox|configured] [--out DIR]
                          [--cases ID,...] [--list] [--real-timings] [--step-timeout D]

Runs the go-live certification cases through the real daemon path (ECR
protocol -> journal -> gateway -> receipt): the iValidate barcode cases
SPOT-001..006 and the venue's money-safety cases (declines, invalid code,
same-day cancel, refunds, lost result, kill -9). Pre-flight checks (keys,
swapped key pair, sign/verify, partner id, extend_info, clock, devices) run
first; no money moves if one fails.

--against sandbox (default) runs every case unattended on the built-in
sandbox (with --config, your merchant fields and receipt layout are used).
--against configured uses the configuration's gateway (Alipay's sandbox or
live): a person is asked to show real payment codes, each step with a
timeout, and every test payment is refunded at the end. The daemon runs on
its own data directory under --out, never on the till's journal; stop the
tillbridge service first if it holds the printer or scanner.

Writes DIR/report.txt, DIR/report.json and DIR/report.html (self-contained:
timeline pictures, journal states, receipt previews, ledger check). See
docs/validation.md for each case and what to do when one fails.

Exit codes: 0 every check and case passed; 1 something failed; 2 bad flags.

Examples:
  tillbridge validate --out ./validation
  tillbridge validate --config /etc/tillbridge/tillbridge.toml --against configured --out ./golive

Flags:
`

type validateFlags struct {
	config, against, out, cases string
	exe, currency               string
	list, realTimings, json     bool
	stepTimeout                 time.Duration
	amount                      int64
}

func runValidate(ctx context.Context, cio cmdIO, args []string) error {
	var f validateFlags
	fs := newFlagSet("validate", validateUsage, cio)
	fs.StringVar(&f.config, "config", "", "configuration `file` (required with --against configured; default there: "+
		installer.DefaultPaths().Config+")")
	fs.StringVar(&f.against, "against", validate.AgainstSandbox, "gateway: sandbox (unattended) or configured (interactive)")
	fs.StringVar(&f.out, "out", "validation", "output `dir` for the reports and the run's data")
	fs.StringVar(&f.cases, "cases", "", "comma-separated case `IDs` to run (default: all; see --list)")
	fs.BoolVar(&f.list, "list", false, "list the cases and exit")
	fs.BoolVar(&f.realTimings, "real-timings", false, "sandbox: production timings (60 s pay deadline, 8 s PIN) instead of scaled-down ones")
	fs.BoolVar(&f.json, "json", false, "print the JSON report on stdout instead of the text summary")
	fs.DurationVar(&f.stepTimeout, "step-timeout", 2*time.Minute, "configured: time a person has for each step")
	fs.Int64Var(&f.amount, "amount", 100, "configured: test sale amount in minor units")
	fs.StringVar(&f.currency, "currency", "HKD", "configured: test sale currency")
	fs.StringVar(&f.exe, "exe", "", "tillbridge `binary` started and killed by the kill -9 case (default: this one)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if f.list {
		for _, c := range validate.Cases() {
			only := ""
			if c.Configured == nil {
				only = " (sandbox only)"
			}
			fmt.Fprintf(cio.stdout, "%-14s %s%s\n    %s\n", c.ID, c.Title, only, c.Expect)
		}
		return nil
	}
	o, err := f.options(cio)
	if err != nil {
		return err
	}
	rep, err := validate.Run(ctx, o)
	var ue *validate.UsageError
	if errors.As(err, &ue) {
		return usageErr(err)
	}
	if err != nil {
		return err
	}
	paths, err := validate.WriteFiles(f.out, rep)
	if err != nil {
		return err
	}
	if f.json {
		err = validate.WriteJSON(cio.stdout, rep)
	} else {
		err = validate.WriteText(cio.stdout, rep)
		fmt.Fprintf(cio.stdout, "reports: %s\n", strings.Join(paths, ", "))
	}
	if err != nil {
		return err
	}
	if !rep.Passed {
		return &exitError{code: exitFailure, err: errors.New("")}
	}
	return nil
}

// options turns the flags into the run's options.
func (f validateFlags) options(cio cmdIO) (validate.Options, error) {
	o := validate.Options{Against: f.against, OutDir: f.out, In: cio.stdin, Out: cio.stderr, Progress: cio.stderr,
		StepTimeout: f.stepTimeout, Amount: f.amount, Currency: f.currency, Version: versionString(), Executable: f.exe}
	if f.cases != "" {
		o.Cases = strings.Split(f.cases, ",")
	}
	if f.realTimings {
		o.Timings = validate.RealTimings()
	}
	if o.Executable == "" {
		if exe, err := os.Executable(); err == nil && !strings.HasSuffix(exe, ".test") && !strings.HasSuffix(exe, ".test.exe") {
			o.Executable = exe
		}
	}
	cfgFile := f.config
	if cfgFile == "" && f.against == validate.AgainstConfigured {
		cfgFile = installer.DefaultPaths().Config
	}
	if cfgFile != "" {
		cfg, err := daemon.LoadConfig(cfgFile)
		if err != nil {
			return o, err
		}
		o.Config = cfg
	}
	return o, nil
}
