package sandbox_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// benchTrades is how many trades the benchmark sandbox holds.
const benchTrades = 200

// benchEnv is a sandbox holding benchTrades paid trades.
func benchEnv(b *testing.B, withFile bool) *env {
	e := newEnv(b, func(c *sandbox.Config) {
		if withFile {
			c.StateFile = filepath.Join(b.TempDir(), "s.db")
		}
	})
	for i := 0; i < benchTrades; i++ {
		e.pay(fmt.Sprintf("B-%d", i), 0, "1.00")
	}
	return e
}

// BenchmarkGatewayQuery measures a signed query over loopback HTTP, in
// memory and with a state file (queries alone do not rewrite it).
func BenchmarkGatewayQuery(b *testing.B) {
	for _, withFile := range []bool{false, true} {
		b.Run(fmt.Sprintf("state_file=%v", withFile), func(b *testing.B) {
			e := benchEnv(b, withFile)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.query("B-1")
			}
		})
	}
}

// BenchmarkGatewayPay measures a signed pay creating a trade, in memory
// and with a state file (one trade row written per pay).
func BenchmarkGatewayPay(b *testing.B) {
	for _, withFile := range []bool{false, true} {
		b.Run(fmt.Sprintf("state_file=%v", withFile), func(b *testing.B) {
			e := benchEnv(b, withFile)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.pay(fmt.Sprintf("N-%d", i), 0, "1.00")
			}
		})
	}
}

// Throughput over time: the pays a 10-minute soak makes at ~40 sales/s,
// in windows, so that a store whose cost grows with the number of trades
// shows as a last window slower than the first.
const (
	throughputTrades = 24000
	throughputWindow = 2000
	throughputChunk  = 10 // pays per turn when interleaving with the baseline
)

// BenchmarkPayThroughputOverTime makes throughputTrades signed pays, one
// after another over loopback HTTP, each creating a trade in a sandbox with
// a state file, and times every window of throughputWindow pays. The same
// number of pays go to a memory-only sandbox (no persistence: HTTP,
// signing and the simulator alone), interleaved in chunks of
// throughputChunk so that both see the same load from the rest of the
// machine. It reports the state-file sandbox's first and last windows
// (pays/s) and their ratio last/first (flat = 1), the baseline's
// last/first, and norm_last/first: the state-file rate divided by the
// baseline rate of the same window, last window over first — the figure
// that load elsewhere on the machine moves least — and norm_fit_last/first,
// the same from a least-squares line through every window's normalised
// rate (a trend, less moved by one noisy window). Run it with
//
//	go test -run '^$' -bench PayThroughputOverTime -benchtime 1x -count 3 ./alipay/sandbox/
func BenchmarkPayThroughputOverTime(b *testing.B) {
	for i := 0; i < b.N; i++ {
		file, base := payWindows(b)
		norm := make([]float64, len(file))
		for w := range file {
			norm[w] = file[w] / base[w]
		}
		last := len(file) - 1
		b.ReportMetric(file[0], "first_pays/s")
		b.ReportMetric(file[last], "last_pays/s")
		b.ReportMetric(file[last]/file[0], "last/first")
		b.ReportMetric(base[last]/base[0], "baseline_last/first")
		b.ReportMetric(norm[last]/norm[0], "norm_last/first")
		b.ReportMetric(slices.Min(norm)/norm[0], "norm_slowest/first")
		b.ReportMetric(fitLastOverFirst(norm), "norm_fit_last/first")
		b.Logf("state file pays/s per window of %d: %.0f", throughputWindow, file)
		b.Logf("baseline pays/s per window:         %.0f", base)
		b.Logf("state file / baseline per window:   %.2f", norm)
	}
}

// payWindows runs one BenchmarkPayThroughputOverTime round on fresh
// sandboxes and returns the rate of each window, with the state file and
// for the memory-only baseline.
func payWindows(b *testing.B) (file, base []float64) {
	b.StopTimer()
	withFile := newEnv(b, func(c *sandbox.Config) { c.StateFile = filepath.Join(b.TempDir(), "sandbox.db") })
	memory := newEnv(b, nil)
	b.StartTimer()
	timed := func(e *env, prefix string, from int) time.Duration {
		start := time.Now()
		for k := from; k < from+throughputChunk; k++ {
			e.pay(fmt.Sprintf("%s-%d", prefix, k), 0, "1.00")
		}
		return time.Since(start)
	}
	for w := 0; w < throughputTrades/throughputWindow; w++ {
		var tf, tb time.Duration
		for j := 0; j < throughputWindow; j += throughputChunk {
			n := w*throughputWindow + j
			tf += timed(withFile, "F", n)
			tb += timed(memory, "M", n)
		}
		file = append(file, throughputWindow/tf.Seconds())
		base = append(base, throughputWindow/tb.Seconds())
	}
	return file, base
}

// fitLastOverFirst fits a least-squares line through ys (one point per
// window) and returns its value at the last window over its value at the
// first.
func fitLastOverFirst(ys []float64) float64 {
	n := float64(len(ys))
	var sx, sy, sxx, sxy float64
	for i, y := range ys {
		x := float64(i)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	icept := (sy - slope*sx) / n
	return (icept + slope*(n-1)) / icept
}
