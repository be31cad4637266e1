package sandbox_test

import (
	"fmt"
	"path/filepath"
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
)

// BenchmarkPayThroughputOverTime makes throughputTrades signed pays, one
// after another over loopback HTTP, each creating a trade, and times every
// window of throughputWindow pays. It reports the first and last windows'
// rates (pays/s), their ratio last/first (flat = 1) and the slowest
// window's rate as a ratio to the first. Run it once per store:
//
//	go test -run '^$' -bench PayThroughputOverTime -benchtime 1x ./alipay/sandbox/
//
// store=memory (no state file) is the floor: HTTP, signing and the
// simulator without persistence.
func BenchmarkPayThroughputOverTime(b *testing.B) {
	for _, withFile := range []bool{false, true} {
		name := "store=memory"
		if withFile {
			name = "store=file"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rates := payWindows(b, withFile)
				first, last, slowest := rates[0], rates[len(rates)-1], rates[0]
				for _, r := range rates {
					slowest = min(slowest, r)
				}
				b.ReportMetric(first, "first_pays/s")
				b.ReportMetric(last, "last_pays/s")
				b.ReportMetric(last/first, "last/first")
				b.ReportMetric(slowest/first, "slowest/first")
				b.Logf("pays/s per window of %d: %.0f", throughputWindow, rates)
			}
		})
	}
}

// payWindows runs the pays of one BenchmarkPayThroughputOverTime round on
// a fresh sandbox and returns the rate of each window.
func payWindows(b *testing.B, withFile bool) []float64 {
	b.StopTimer()
	e := newEnv(b, func(c *sandbox.Config) {
		if withFile {
			c.StateFile = filepath.Join(b.TempDir(), "sandbox.db")
		}
	})
	b.StartTimer()
	var rates []float64
	for w := 0; w < throughputTrades/throughputWindow; w++ {
		start := time.Now()
		for j := 0; j < throughputWindow; j++ {
			e.pay(fmt.Sprintf("T-%d-%d", w, j), 0, "1.00")
		}
		rates = append(rates, throughputWindow/time.Since(start).Seconds())
	}
	return rates
}
