package queue

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitClaimed spins until id is marked busy (a claim or a launch).
func waitClaimed(e *Engine, id string) {
	for {
		e.mu.Lock()
		_, held := e.busy[id]
		e.mu.Unlock()
		if held {
			return
		}
		runtime.Gosched()
	}
}

// An operator's RetryNow taken between the scheduler's write-ahead commit
// and its launch releases the busy mark of a call in flight: the next pass
// sends a second, concurrent call for the same operation. For a refund the
// two answers race; a "duplicate request" refusal recorded first would
// read as refund_declined while the other one refunded.
func TestRedTeamRetryNowNeverDoublesACallInFlight(t *testing.T) {
	ctx := context.Background()
	var (
		h       *harness
		target  string
		once    sync.Once
		retried = make(chan struct{})
	)
	h = newHarness(t, func(c *Config) {
		c.Hook = func(p Failpoint, call Call, op Operation) {
			if p != FailBeforeCommit || call != CallRefund || op.ID != target {
				return
			}
			once.Do(func() {
				go func() { _, _ = h.e.RetryNow(ctx, op.ID); close(retried) }()
				waitClaimed(h.e, op.ID)
			})
		}
	})
	sale := h.paidSale("S", 1000)
	release := make(chan struct{})
	h.gw.set(func(g *fakeGateway) {
		g.refund = func(r RefundRequest) (RefundResult, error) {
			<-release
			return refundOK(r)
		}
	})
	r1, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "R1", SaleID: sale.ID,
		Amount: 1000, Currency: "HKD"})
	if err != nil {
		t.Fatal(err)
	}
	target = r1.ID
	h.e.step(ctx) // write-ahead of the refund, then launch (the call blocks)
	<-retried
	h.e.step(ctx) // the next pass
	h.e.mu.Lock()
	inflight := h.e.inflight
	h.e.mu.Unlock()
	close(release)
	h.settle()
	if inflight > 1 {
		t.Fatalf("%d refund calls in flight at once for refund %s", inflight, r1.ID)
	}
	h.want(r1.ID, StateRefunded)
}
// Invariant 4 / journal truth: an operator's Resolve must never overlap a
// gateway call for the same operation. The scheduler commits a write-ahead
// record and only then marks the operation busy (launch); a Resolve that
// claims the operation in between succeeds, and the call is sent anyway. For
// a refund resolved as refund_declined ("the portal shows no refund") the
// refund then happens at the gateway, the journal says it did not, and its
// amount is free to be refunded a second time.
func TestRedTeamResolveNeverOverlapsALaunchedCall(t *testing.T) {
	ctx := context.Background()
	var (
		h        *harness
		target   string
		once     sync.Once
		resolved = make(chan error, 1)
	)
	h = newHarness(t, func(c *Config) {
		c.Hook = func(p Failpoint, call Call, op Operation) {
			if p != FailBeforeCommit || call != CallRefund || op.ID != target {
				return
			}
			once.Do(func() {
				go func() {
					_, err := h.e.Resolve(ctx, op.ID, StateRefundDeclined,
						"merchant portal shows no refund", "tech")
					resolved <- err
				}()
				// Let the technician's Resolve take its claim; it then waits for
				// this write transaction. (With the claim already held by the
				// scheduler, the loop ends at once and Resolve is refused.)
				for {
					h.e.mu.Lock()
					_, held := h.e.busy[op.ID]
					h.e.mu.Unlock()
					if held {
						return
					}
					runtime.Gosched()
				}
			})
		}
	})
	sale := h.paidSale("S", 1000)
	h.gw.set(func(g *fakeGateway) { g.refund = refundOK })
	r1, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "R1", SaleID: sale.ID,
		Amount: 1000, Currency: "HKD"})
	if err != nil {
		t.Fatal(err)
	}
	target = r1.ID
	h.e.step(ctx) // the scheduler's pass: write-ahead of the refund, then launch
	resolveErr := <-resolved
	h.settle()

	got := h.get(r1.ID)
	sent := h.gw.count("refund")
	if resolveErr == nil && sent > 0 {
		t.Errorf("refund %s resolved as %s while its refund call was sent anyway (%d calls)",
			r1.ID, got.State, sent)
	}
	// The consequence: the journal frees the amount for a second refund.
	r2, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "R2", SaleID: sale.ID,
		Amount: 1000, Currency: "HKD"})
	if err == nil {
		h.settle()
		if h.get(r2.ID).State == StateRefunded && sent > 0 {
			t.Errorf("the gateway refunded %d on a sale of 1000", 2000)
		}
	}
}

// Invariant 2 for refunds: after an attempt whose outcome is unknown (the
// answer was lost — the refund may have gone through), a retry answered with
// a business refusal that the first attempt itself can cause (the trade is
// now closed because it was fully refunded, or the amount exceeds what is
// left) does not prove that no money moved. Recording refund_declined tells
// the ECR DECLINED (the cashier may hand out cash) and frees the amount.
// This matters if Alipay checks the trade state before the partner_refund_id
// idempotency (reference §9.3 says it returns the refund's real status;
// the order is UNCONFIRMED).
func TestRedTeamRefundRetryRefusalAfterUnknownIsNotDeclined(t *testing.T) {
	for _, code := range []string{"TRADE_HAS_CLOSE", "TRADE_STATUS_ERROR", "RETURN_AMOUNT_EXCEED"} {
		t.Run(code, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			sale := h.paidSale("S", 1000)
			n := 0
			h.gw.set(func(g *fakeGateway) {
				g.refund = func(RefundRequest) (RefundResult, error) {
					n++
					if n == 1 {
						return RefundResult{}, errOffline // answer lost after the refund was made
					}
					return RefundResult{Outcome: OutcomeDeclined, Code: code, RawStatus: "FAILED"}, nil
				}
			})
			op, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "R", SaleID: sale.ID,
				Amount: 1000, Currency: "HKD"})
			if err != nil {
				t.Fatal(err)
			}
			h.advance(30*time.Second, time.Second)
			got := h.get(op.ID)
			if got.State == StateRefundDeclined {
				t.Fatalf("refund retried after an unknown outcome recorded as declined by %s", code)
			}
		})
	}
}

