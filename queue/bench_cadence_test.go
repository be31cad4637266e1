package queue

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// pollingGateway leaves every trade waiting for the buyer and records when
// each query arrived.
type pollingGateway struct {
	mu      sync.Mutex
	queries map[string][]time.Time
}

func (g *pollingGateway) Pay(context.Context, PayRequest) (PayResult, error) {
	return PayResult{RawStatus: "UNKNOW"}, nil
}

func (g *pollingGateway) Query(_ context.Context, id string) (QueryResult, error) {
	now := time.Now()
	g.mu.Lock()
	g.queries[id] = append(g.queries[id], now)
	g.mu.Unlock()
	return QueryResult{Outcome: OutcomeSuccess, Status: TradeWaitBuyerPay}, nil
}

func (g *pollingGateway) Cancel(context.Context, string) (CancelResult, error) {
	return CancelResult{}, nil
}

func (g *pollingGateway) Refund(context.Context, RefundRequest) (RefundResult, error) {
	return RefundResult{}, nil
}

// BenchmarkSchedulerCadence runs 1 000 sales polling at the default cadence
// (first query 3.5 s after the pay, then every 3.5 s) with the real clock and
// sync=FULL, the sales arriving spread over one interval, and reports how
// late each query was against its planned time (the i-th query of a sale is
// planned at pay + i × 3.5 s).
func BenchmarkSchedulerCadence(b *testing.B) {
	const sales, rounds = 1000, 4
	for b.Loop() {
		gw := &pollingGateway{queries: map[string][]time.Time{}}
		e, err := Open(context.Background(), filepath.Join(b.TempDir(), "j.db"), gw,
			Config{PayDeadline: time.Hour, MaxOpen: -1})
		if err != nil {
			b.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		start := time.Now()
		gap := e.cfg.QueryInterval / sales
		for i := range sales {
			time.Sleep(time.Until(start.Add(time.Duration(i) * gap)))
			if _, err := e.SubmitSale(ctx, Sale{Lane: fmt.Sprint(i), Ref: "r", Amount: 100,
				Currency: "HKD", BuyerCode: "281234567890123411"}); err != nil {
				b.Fatal(err)
			}
		}
		submitted := time.Since(start)
		time.Sleep(time.Duration(rounds)*e.cfg.QueryInterval + e.cfg.FirstQuery)
		stop()
		<-done
		lates, n := cadenceErrors(b, e, gw, rounds)
		_ = e.Close(context.Background())
		slices.Sort(lates)
		pct := func(p float64) float64 {
			return float64(lates[int(p*float64(len(lates)-1))]) / float64(time.Millisecond)
		}
		b.ReportMetric(pct(0.50), "p50_late_ms")
		b.ReportMetric(pct(0.99), "p99_late_ms")
		b.ReportMetric(pct(1), "max_late_ms")
		b.ReportMetric(float64(n), "queries")
		b.ReportMetric(submitted.Seconds(), "submit_s")
	}
}

// cadenceErrors returns, for the first rounds queries of every sale, how
// late each came against its plan; it fails if a query came early or a
// planned query was skipped.
func cadenceErrors(b *testing.B, e *Engine, gw *pollingGateway, rounds int) ([]time.Duration, int) {
	ops, err := e.List(context.Background(), Filter{Limit: 100000})
	if err != nil {
		b.Fatal(err)
	}
	var lates []time.Duration
	for _, op := range ops {
		qs := gw.queries[op.PartnerTransID]
		if len(qs) < rounds {
			b.Fatalf("sale %s: %d queries, want ≥ %d", op.Lane, len(qs), rounds)
		}
		for i, at := range qs[:rounds] {
			planned := op.PaySentAt.Add(e.cfg.FirstQuery + time.Duration(i)*e.cfg.QueryInterval)
			late := at.Sub(planned)
			if late < -time.Millisecond || late >= e.cfg.QueryInterval {
				b.Fatalf("sale %s query %d: %v off its plan", op.Lane, i+1, late)
			}
			lates = append(lates, max(late, 0))
		}
	}
	return lates, len(lates)
}
