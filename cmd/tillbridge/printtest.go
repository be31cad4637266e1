package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tillbridge/tillbridge/control"
)

func printTestCommand() command {
	return command{name: "print-test", summary: "print a test page on a lane's printer (no payment)", run: runPrintTest}
}

const printTestUsage = `usage: tillbridge print-test [--lane L] [--config FILE | --data DIR | --socket ADDR] [--json]

Prints a test page (lane, printer, paper width, status, a character line) on
the lane's receipt printer through the running daemon, and shows the
printer's status before and after. --lane may be left out when there is only
one lane.

Exit codes: 0 printed; 1 not printed (the printer's problem is named:
paper_end, cover_open, offline, unknown...), an unknown lane, or a lane
without printer; 2 bad flags, or no --lane with several lanes; 3 the daemon
is not running; 4 the daemon is still starting.

Examples:
  tillbridge print-test --lane 1
`

func runPrintTest(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	var lane string
	fs := newCtlFlagSet("print-test", printTestUsage, cio, &f)
	fs.StringVar(&lane, "lane", "", "the `lane` whose printer prints (default: the only lane)")
	if err := parseCtl(fs, args, false); err != nil {
		return err
	}
	res, err := callDaemon(ctx, &f, time.Minute, func(c context.Context, cl *control.Client) (control.PrintTestResult, error) {
		return cl.PrintTest(c, lane)
	})
	if err != nil {
		return err
	}
	if f.json {
		if err := printJSON(cio.stdout, res); err != nil {
			return err
		}
	} else {
		printPrintTest(cio.stdout, res)
	}
	if !res.Printed {
		return &exitError{code: exitFailure, err: errors.New("")}
	}
	return nil
}

func printPrintTest(w io.Writer, r control.PrintTestResult) {
	fmt.Fprintf(w, "lane %s, printer %s\n", r.Lane, r.Printer)
	fmt.Fprintf(w, "  before: %s\n", describePrinter(&r.Before))
	if r.Printed {
		fmt.Fprintln(w, "  printed the test page: check that it came out and reads well")
	} else {
		fmt.Fprintf(w, "  NOT printed: %s\n", firstOf(r.Detail, r.Problem))
		fmt.Fprintf(w, "  %s\n", printerAdvice(r.Problem))
	}
	if r.After != nil {
		fmt.Fprintf(w, "  after:  %s\n", describePrinter(r.After))
	}
}

// printerAdvice says what to do about a printer status code.
func printerAdvice(code string) string {
	switch code {
	case "paper_end":
		return "load a new paper roll and close the cover"
	case "cover_open":
		return "close the printer's cover"
	case "cutter_error":
		return "open the cover, clear the cutter jam, switch the printer off and on"
	case "offline":
		return "the printer is offline: check power, cable, paper and the cover"
	case "unknown":
		return "the printer did not answer: check power and cable; for USB, see tillbridge devices"
	}
	return "see tillbridge devices and the daemon's log"
}
