package soak

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// maxShown bounds the violations printed per check (the JSON report has
// them all).
const maxShown = 20

// WriteText prints the report: the run, the latency table, the totals,
// the check table with any violations, and as the last line
// "N passed, N failed".
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	per := "until the duration bound"
	if r.Sales > 0 {
		per = fmt.Sprintf("up to %d sales each", r.Sales)
	}
	fmt.Fprintf(&b, "tillbridge soak %s: %d lanes, %s, seed %d, mix %s\n", r.Tag, r.Lanes, per, r.Seed, r.Mix)
	fmt.Fprintf(&b, "chaos: %s\n", chaosText(r.Chaos))
	fmt.Fprintf(&b, "drove %d sales in %s (%.1f sales/s), %d refunds, %d cancels, %d requests; %d fault windows, %d kills, %d drops, %d reconnects\n",
		r.SalesDone, r.Drive.Round(time.Millisecond), r.SalesPerS, r.Refunds, r.Cancels, r.Requests, r.Faults, r.Kills, r.Drops, r.Reconnects)
	fmt.Fprintf(&b, "recoveries: %d requests repeated after no answer, %d after E_UNAVAILABLE, %d after E_LANE_BUSY\n",
		r.NoAnswer, r.Unavail, r.LaneBusy)
	if r.Unsettled > 0 {
		fmt.Fprintf(&b, "%d operations were still open when the settle bound passed\n", r.Unsettled)
	}
	b.WriteString("\nSALE → final RESULT latency per scenario class (ms, includes every recovery)\n")
	tw := tabwriter.NewWriter(&b, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tn\tp50\tp90\tp99\tmax\t")
	for _, l := range r.Latency {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", l.Class, l.N, l.P50.Milliseconds(), l.P90.Milliseconds(), l.P99.Milliseconds(), l.Max.Milliseconds())
	}
	tw.Flush()
	b.WriteString("\nmoney kept per currency (minor units; MANUAL sales left out)\n")
	tw = tabwriter.NewWriter(&b, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "currency\tgateway\tjournal\tECRs told\tmanual\t")
	for _, t := range r.Verdict.Totals {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", t.Currency, t.Gateway, t.Journal, t.ECR, t.Manual)
	}
	tw.Flush()
	b.WriteString("\n")
	writeChecks(&b, r.Verdict)
	if r.Data != "" && !r.Passed() {
		fmt.Fprintf(&b, "data kept for inspection: %s\n", r.Data)
	}
	fmt.Fprintf(&b, "%d passed, %d failed\n", r.Verdict.Passed(), r.Verdict.Failed())
	_, err := io.WriteString(w, b.String())
	return err
}

// writeChecks prints the check table and the violations under it.
func writeChecks(b *strings.Builder, v Verdict) {
	tw := tabwriter.NewWriter(b, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tcount\tviolations")
	for _, c := range v.Checks {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", c.Name, c.Count, len(c.Violations))
	}
	tw.Flush()
	for _, c := range v.Checks {
		if len(c.Violations) == 0 {
			continue
		}
		fmt.Fprintf(b, "\nVIOLATIONS of %q:\n", c.Name)
		for i, s := range c.Violations {
			if i == maxShown {
				fmt.Fprintf(b, "  … and %d more (see --json)\n", len(c.Violations)-maxShown)
				break
			}
			fmt.Fprintf(b, "  %s\n", s)
		}
	}
	b.WriteString("\n")
}

func chaosText(c Chaos) string {
	var on []string
	if c.Faults {
		on = append(on, fmt.Sprintf("gateway faults (~every %s)", c.FaultEvery))
	}
	if c.Kills {
		on = append(on, fmt.Sprintf("SIGKILL+restart (~every %s)", c.KillEvery))
	}
	if c.Drops {
		on = append(on, "ECR drops")
	}
	if len(on) == 0 {
		return "off"
	}
	return strings.Join(on, ", ")
}
