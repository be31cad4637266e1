package main

import (
	"fmt"
	"io"

	"github.com/tillbridge/tillbridge/daemon"
)

// printRecon prints the daily reconciliation's latest result.
func printRecon(w io.Writer, r *daemon.ReconStatus) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "  reconcile: %s", r.State)
	if r.Day != "" {
		fmt.Fprintf(w, " (day %s, %d attempt(s))", r.Day, r.Attempts)
	}
	if r.Verdict != "" {
		fmt.Fprintf(w, ": %s", r.Verdict)
	}
	if r.Error != "" {
		fmt.Fprintf(w, ": %s", r.Error)
	}
	if !r.Next.IsZero() {
		fmt.Fprintf(w, "; next %s", clock(r.Next))
	}
	fmt.Fprintln(w)
}
