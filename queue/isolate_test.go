package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The scheduler claims an operation before committing its write-ahead
// record, so an operator's RetryNow or Resolve arriving in between can
// neither release the claim of the call about to leave (a second concurrent
// call) nor end the operation while the call is sent anyway.
func TestOperatorCannotSlipBetweenWriteAheadAndCall(t *testing.T) {
	ctx := context.Background()
	var h *harness
	var target string
	var once sync.Once
	var unclaimed bool
	var resolveErr, retryErr error
	h = newHarness(t, func(c *Config) {
		c.Hook = func(p Failpoint, call Call, op Operation) {
			if p != FailBeforeCommit || call != CallRefund || op.ID != target {
				return
			}
			once.Do(func() { // inside the write-ahead transaction, before its commit
				if h.e.claim(op.ID) {
					h.e.release(op.ID)
					unclaimed = true // an operator could take it now
					return
				}
				_, resolveErr = h.e.Resolve(ctx, op.ID, StateRefundDeclined, "portal shows none", "tech")
				_, retryErr = h.e.RetryNow(ctx, op.ID)
			})
		}
	})
	sale := h.paidSale("S", 1000)
	inflight, most := 0, 0
	var mu sync.Mutex
	h.gw.set(func(g *fakeGateway) {
		g.refund = func(r RefundRequest) (RefundResult, error) {
			mu.Lock()
			inflight++
			most = max(most, inflight)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond) // overlap would show
			mu.Lock()
			inflight--
			mu.Unlock()
			return refundOK(r)
		}
	})
	op, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "R1", SaleID: sale.ID, Amount: 1000,
		Currency: "HKD"})
	if err != nil {
		t.Fatal(err)
	}
	target = op.ID
	h.settle()
	if unclaimed {
		t.Fatal("the refund was not claimed while its write-ahead record was committed")
	}
	if !asErr(resolveErr, new(*StateError)) || retryErr != nil {
		t.Fatalf("during the write-ahead: Resolve %v (want *StateError), RetryNow %v (want a no-op)",
			resolveErr, retryErr)
	}
	h.want(op.ID, StateRefunded)
	if n := h.gw.count("refund"); n != 1 || most != 1 {
		t.Fatalf("%d refund calls, %d at once", n, most)
	}
}

// An operation whose row cannot be written (here a trigger refuses it) is
// left aside for a while; every other operation of the same pass goes on.
func TestUnwritableOperationDoesNotStallOthers(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeSuccess) })
	bad, good := h.sale("bad", 100), h.sale("good", 100)
	h.pay(bad.ID, "281234567890123410")
	h.pay(good.ID, "281234567890123410")
	h.settle()
	poison := fmt.Sprintf(`CREATE TRIGGER poison BEFORE UPDATE ON operations WHEN OLD.id = '%s'
		BEGIN SELECT RAISE(ABORT, 'disk says no'); END`, bad.ID)
	if _, err := h.e.st.w.ExecContext(ctx, poison); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(3500 * time.Millisecond)
	for range 3 { // one pass plans both; the bad one is quarantined
		h.e.calls.Wait()
		if _, err := h.e.cycle(ctx); err != nil {
			t.Fatalf("a pass failed because of one operation: %v", err)
		}
	}
	h.e.calls.Wait()
	if _, err := h.e.cycle(ctx); err != nil {
		t.Fatal(err)
	}
	h.want(good.ID, StatePaid)
	h.want(bad.ID, StateQuerying)
	if _, err := h.e.st.w.ExecContext(ctx, "DROP TRIGGER poison"); err != nil {
		t.Fatal(err)
	}
	h.advance(2*time.Second, time.Second)
	h.want(bad.ID, StatePaid)
}
