package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tillbridge/tillbridge/control"
)

func scanTestCommand() command {
	return command{name: "scan-test", summary: "wait for one scan on a lane's scanner and show it masked (no payment)",
		run: runScanTest}
}

const scanTestUsage = `usage: tillbridge scan-test [--lane L] [--timeout 30s] [--config FILE | --data DIR | --socket ADDR] [--json]

Puts the lane's scanner in a test mode and waits for one scan: it shows the
code masked to its last four digits, its length, and whether it looks like an
Alipay payment code (16-24 digits starting 25-30), which is what the lane
accepts during a sale. No payment is ever made, and no sale can start on the
lane during the test (the lane answers busy). --lane may be left out when
there is only one lane.

Exit codes: 0 an Alipay payment code was read; 1 nothing was read before
--timeout, the code is not an Alipay payment code, an unknown lane, a lane
without scanner, or a lane busy with a sale; 2 bad flags, or no --lane with
several lanes; 3 the daemon is not running; 4 the daemon is still starting.

Examples:
  tillbridge scan-test --lane 2
  tillbridge scan-test --lane 2 --timeout 1m
`

func runScanTest(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	var lane string
	var timeout time.Duration
	fs := newCtlFlagSet("scan-test", scanTestUsage, cio, &f)
	fs.StringVar(&lane, "lane", "", "the `lane` whose scanner is tested (default: the only lane)")
	fs.DurationVar(&timeout, "timeout", control.DefaultScanTestTimeout, "how long to wait for a scan (at most 5m)")
	if err := parseCtl(fs, args, false); err != nil {
		return err
	}
	if timeout <= 0 || timeout > control.MaxScanTestTimeout {
		return usageErr(fmt.Errorf("--timeout %s: between 0 and %s", timeout, control.MaxScanTestTimeout))
	}
	cl, _ := f.client()
	defer cl.Close()
	if !f.json {
		fmt.Fprintf(cio.stdout, "scan a code on lane %s's scanner now (waiting up to %s)...\n", orOnly(lane), timeout)
	}
	cctx, cancel := ctlContext(ctx, timeout+30*time.Second)
	defer cancel()
	res, err := cl.ScanTest(cctx, lane, timeout)
	if err != nil {
		return ctlErr(err)
	}
	if f.json {
		if err := printJSON(cio.stdout, res); err != nil {
			return err
		}
	} else {
		printScanTest(cio.stdout, res)
	}
	if !res.Scanned || !res.LooksAlipay {
		return &exitError{code: exitFailure, err: errors.New("")}
	}
	return nil
}

func orOnly(lane string) string {
	if lane == "" {
		return "(the only lane)"
	}
	return lane
}

func printScanTest(w io.Writer, r control.ScanTestResult) {
	fmt.Fprintf(w, "lane %s, scanner %s\n", r.Lane, r.Scanner)
	if r.Scanned {
		fmt.Fprintf(w, "  read %s (%d characters) from %s\n", r.Masked, r.Length, r.Source)
		fmt.Fprintf(w, "  Alipay payment code: %s\n", yesNo(r.LooksAlipay))
	}
	fmt.Fprintf(w, "  %s\n", r.Verdict)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
