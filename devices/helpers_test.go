package devices

import (
	"context"
	"testing"
	"time"
)

// nextScan receives one scan; the 10 s bound only stops a hung test.
func nextScan(t *testing.T, ch <-chan Scan) Scan {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a scan")
		return Scan{}
	}
}

// runScanner starts s and returns its output and a stop function that
// waits for Run to return, reporting Run's result.
func runScanner(t *testing.T, s Scanner) (<-chan Scan, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Scan, 16)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, out) }()
	stop := func() error {
		cancel()
		return <-done
	}
	t.Cleanup(func() { cancel() })
	return out, stop
}
