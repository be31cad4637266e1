package soak

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

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
	fmt.Fprintf(&b, "baseline: spawn → exit of 'tillbridge version' median %s (min %s, max %s)\n", ms(r.Exec.Median), ms(r.Exec.Min), ms(r.Exec.Max))
	fmt.Fprintf(&b, "resident memory idle (%d lanes configured): VmRSS %s, VmHWM %s\n\n", r.BusyLanes, mib(r.IdleRSS), mib(r.IdleHWM))
	tw := tabwriter.NewWriter(&b, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "lanes\tsales\telapsed\tsales/s\tbare pays/s\tratio\tp50\tp99\terrors\tVmRSS max\tVmHWM\tchecks\t")
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f\t%.1f\t%.2f\t%s\t%s\t%d\t%s\t%s\t%s\t\n", s.Lanes, s.Sales, ms(s.Elapsed), s.SalesPerS,
			s.BarePerS, s.SalesPerS/s.BarePerS, ms(s.Latency.P50), ms(s.Latency.P99), s.Errors, mib(s.RSSMax), mib(s.HWM), s.Checks)
	}
	tw.Flush()
	for _, s := range r.Steps {
		for _, k := range slices.Sorted(maps.Keys(s.ErrorKinds)) {
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
