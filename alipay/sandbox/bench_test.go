package sandbox_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// benchTrades is how many trades the benchmark sandbox holds.
const benchTrades = 200

// benchEnv is a sandbox holding benchTrades paid trades.
func benchEnv(b *testing.B, withFile bool) *env {
	e := newEnv(b, func(c *sandbox.Config) {
		if withFile {
			c.StateFile = filepath.Join(b.TempDir(), "s.json")
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
// and with a state file (rewritten and fsynced on every pay).
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
