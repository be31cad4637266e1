package queue

// Red-team tests: adversarial money-safety checks of the engine, each named
// for the invariant it guards (DESIGN.md "Money-safety invariants").

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// stepN runs the engine's own scheduler step (flush, then dispatch — exactly
// what Run does) n times at the current fake time, waiting for calls in
// flight between steps. Unlike settle it tolerates journal errors, so a test
// can observe an engine that stopped making progress.
func (h *harness) stepN(n int) {
	h.t.Helper()
	for range n {
		h.e.calls.Wait()
		h.e.step(context.Background())
	}
	h.e.calls.Wait()
}

// Invariant 4 (nothing stuck): the automatic refund of a paid sale whose
// cancel is impossible is recorded under the refund_ref "<sale ref>~auto".
// The ECR may already have used that refund_ref for a refund of another sale
// ("~" is a legal ref character). The insert then fails on UNIQUE(lane,
// kind, ref), the whole flush transaction rolls back, the answers are queued
// again and fail again: the scheduler never reaches dispatch, so every other
// sale on the till stops too (a paid sale stays "paying", its ECR hears
// PENDING for ever).
func TestRedTeamAutoRefundRefCollisionDoesNotWedgeEngine(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	s0 := h.paidSale("S0", 1000)
	h.gw.set(func(g *fakeGateway) { g.refund = refundOK })
	if _, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "S1~auto", SaleID: s0.ID,
		Amount: 100, Currency: "HKD"}); err != nil {
		t.Fatalf("ECR refund with ref S1~auto: %v", err)
	}
	h.settle()

	// S1: pay outcome unknown; the ECR cancels; the cancel is refused for
	// good; the trade turns out to be paid, so the engine owes a full refund.
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = queryStatus(TradeWaitBuyerPay)
	})
	s1 := h.sale("S1", 500)
	h.pay(s1.ID, "281234567890123401")
	h.settle()
	h.gw.set(func(g *fakeGateway) {
		g.cancel = cancelRefused
		g.query = queryStatus(TradeSuccess)
	})
	if _, err := h.e.Cancel(ctx, s1.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	h.stepN(5) // cancel refused → checking → query TRADE_SUCCESS → auto refund

	// Meanwhile another customer pays on the same till.
	h.gw.set(func(g *fakeGateway) {
		g.pay = func(r PayRequest) (PayResult, error) {
			return PayResult{Outcome: OutcomeSuccess, RawStatus: "SUCCESS",
				TradeInfo: TradeInfo{AlipayTransID: "2025" + r.PartnerTransID}}, nil
		}
	})
	submitted, err := h.e.SubmitSale(ctx, Sale{Lane: "1", Ref: "S2", Amount: 300, Currency: "HKD",
		Subject: "Tickets", Terminal: "T-01", BuyerCode: "281234567890123402"})
	s2 := submitted.Op
	if err != nil {
		t.Fatalf("SubmitSale S2: %v", err)
	}
	h.clk.Advance(10 * time.Second)
	h.stepN(20)

	if got := h.get(s2.ID); got.State != StatePaid {
		t.Errorf("an unrelated paid sale is stuck in %s: the engine stopped recording answers", got.State)
	}
	got := h.get(s1.ID)
	if got.State != StateCancelled {
		t.Fatalf("sale S1 is %s (%q), want cancelled with an automatic refund", got.State, got.Reason)
	}
	refunds, err := h.e.Refunds(ctx, s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(refunds) != 1 || !refunds[0].Auto || refunds[0].Amount != 500 || refunds[0].State != StateRefunded {
		t.Fatalf("automatic refund of S1: %+v", refunds)
	}
}

// Invariant 2/3 and journal truth: a sale whose payment Alipay confirmed
// (verified SUCCESS) must never later be recorded as "declined, no money
// moved". The ECR cancels the paid sale, the cancel is refused for good
// (retry_flag=N), and the query that decides then answers "not found"
// (TRADE_NOT_EXIST / TRANS_NOT_FOUND; at gateway level an unsigned
// is_success=F suffices). Read as "declined", the journal would forget a
// verified payment, and the sale could no longer be refunded (only a paid
// sale can): the contradiction goes to a person instead.
func TestRedTeamPaidSaleNeverDeclinedByNotFound(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sale := h.paidSale("S", 1000)
	h.gw.set(func(g *fakeGateway) {
		g.cancel = cancelRefused
		g.query = queryStatus(TradeNotFound)
		g.refund = refundOK
	})
	if _, err := h.e.Cancel(ctx, sale.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	h.advance(10*time.Second, time.Second)
	got := h.get(sale.ID)
	if got.State != StateManual || !strings.Contains(got.Reason, sale.PartnerTransID) ||
		!strings.Contains(got.Reason, "not found") {
		t.Fatalf("verified-paid sale whose trade is reported not found: %s (%q), want manual naming the trade",
			got.State, got.Reason)
	}
	if refunds, err := h.e.Refunds(ctx, sale.ID); err != nil || len(refunds) != 0 {
		t.Fatalf("refunds %+v, %v", refunds, err)
	}
}

// Invariant 2 for refunds: after an attempt whose outcome is unknown (the
// answer was lost — the refund may have gone through), a refusal of the
// retry (the trade now closed because it was fully refunded, the amount now
// exceeded, or a gateway-level refusal of the retry itself) does not prove
// that no money moved. Recording refund_declined would tell the ECR DECLINED
// (the cashier may hand out cash) and free the amount for another refund.
// Reference §9.3 says a repeated partner_refund_id returns the refund's real
// status, but whether Alipay checks that before the trade state is
// UNCONFIRMED, and there is no refund query to settle it: a person decides.
func TestRedTeamRefundRetryRefusalAfterUnknownIsNotDeclined(t *testing.T) {
	for _, code := range []string{"TRADE_HAS_CLOSE", "TRADE_STATUS_ERROR", "RETURN_AMOUNT_EXCEED", "ILLEGAL_SIGN"} {
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
			if got.State != StateManual || !strings.Contains(got.Reason, got.PartnerRefundID) {
				t.Fatalf("refund retried after an unknown outcome, then refused with %s: %s (%q), "+
					"want manual naming the refund", code, got.State, got.Reason)
			}
			// Its amount stays reserved until a person decides.
			if _, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "R2", SaleID: sale.ID,
				Amount: 1, Currency: "HKD"}); !asErr(err, new(*RefundExceedsError)) {
				t.Fatalf("a second refund while the first is unsure: %v", err)
			}
		})
	}
}

// Invariant "never more than the paid amount" under concurrency: many tills'
// worth of refunds and an ECR cancel race on one paid sale; the journal
// accepts at most the paid amount, and never both a cancel and a refund.
func TestRedTeamConcurrentRefundsAndCancelNeverExceedSale(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sale := h.paidSale("S", 1000)
	h.gw.set(func(g *fakeGateway) {
		g.refund = refundOK
		g.cancel = cancelOK
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, cancelled := int64(0), false
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 6 {
				if op, err := h.e.Cancel(ctx, sale.ID); err == nil && op.State == StateCancelling {
					mu.Lock()
					cancelled = true
					mu.Unlock()
				}
				return
			}
			op, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: fmt.Sprintf("R%d", i),
				SaleID: sale.ID, Amount: 300, Currency: "HKD"})
			if err == nil {
				mu.Lock()
				accepted += op.Amount
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	h.settle()
	if accepted > 1000 {
		t.Fatalf("refunds of %d accepted on a sale of 1000", accepted)
	}
	if cancelled && accepted > 0 {
		t.Fatalf("both a cancel and %d of refunds accepted", accepted)
	}
	sum, err := refundedSum(ctx, h.e.st.r, sale.ID)
	if err != nil || sum != accepted {
		t.Fatalf("journal refund sum %d, accepted %d (%v)", sum, accepted, err)
	}
}

// Clock handling (invariant 4 without needless MANUAL): a till that boots
// with a stale clock (dead CMOS battery) runs behind until NTP steps it
// forward. A sale whose pay outcome was unknown at that moment looked
// "older than Expiry" at its next plan and went manual without a single
// query or cancel, although the deadline's cancel/check settles it.
func TestRedTeamClockStepDoesNotSkipQueryAndCancel(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = func(string) (QueryResult, error) { return QueryResult{}, errOffline }
		g.cancel = cancelOK
	})
	op := h.sale("S", 1000)
	h.pay(op.ID, "281234567890123400")
	h.settle()
	h.want(op.ID, StateQuerying)
	h.clk.Advance(9 * 24 * time.Hour) // NTP steps the clock forward
	h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeClosed) })
	h.advance(10*time.Second, time.Second)
	// The cancel window of the (old) day is closed, so the engine checks the
	// trade: closed, nothing paid.
	got := h.want(op.ID, StateCancelled)
	if h.gw.count("query") == 0 {
		t.Fatalf("decided without asking the gateway: %q", got.Reason)
	}
}

// The same with the gateway unreachable after the step: one attempt is
// made in the new state, then a person decides (Expiry still ends it).
func TestRedTeamClockStepTriesOnceThenManual(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = queryStatus(TradeWaitBuyerPay)
	})
	op := h.sale("S", 1000)
	h.pay(op.ID, "281234567890123400")
	h.advance(10*time.Second, time.Second)
	before := h.gw.count("query") + h.gw.count("cancel")
	h.clk.Advance(9 * 24 * time.Hour)
	h.gw.set(func(g *fakeGateway) { g.query, g.cancel = nil, nil }) // offline
	h.advance(10*time.Minute, time.Second)
	got := h.want(op.ID, StateManual)
	if after := h.gw.count("query") + h.gw.count("cancel"); after == before {
		t.Fatalf("manual without a call after the step: %q", got.Reason)
	}
	if !strings.Contains(got.Reason, op.PartnerTransID) {
		t.Fatalf("reason does not name the trade: %q", got.Reason)
	}
}
