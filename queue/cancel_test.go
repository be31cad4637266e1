package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func cancelRefused(string) (CancelResult, error) {
	return CancelResult{Outcome: OutcomeDeclined, Code: "TRADE_STATUS_ERROR", RawStatus: "FAIL",
		RetryFlag: RetryNo}, nil
}

// deadlineSale returns a sale that reached its pay deadline with the cancel
// answered by cancel.
func deadlineSale(h *harness, cancel func(string) (CancelResult, error)) Operation {
	h.t.Helper()
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = queryStatus(TradeWaitBuyerPay)
		g.cancel = cancel
	})
	op := h.sale("r1", 1000)
	h.pay(op.ID, "281234567890123411")
	h.advance(60*time.Second, 500*time.Millisecond)
	return op
}

func TestCancelRefusedThenChecked(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status TradeStatus
		want   State
		refund bool
	}{
		{"closed", TradeClosed, StateCancelled, false},
		{"not found", TradeNotFound, StateDeclined, false},
		{"paid: full refund", TradeSuccess, StateCancelled, true},
		{"finished", TradeFinished, StateManual, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.gw.set(func(g *fakeGateway) { g.refund = refundOK })
			op := deadlineSale(h, cancelRefused)
			got := h.want(op.ID, StateChecking)
			if !strings.Contains(got.Reason, "retry_flag=N") {
				t.Fatalf("checking reason %q", got.Reason)
			}
			h.gw.set(func(g *fakeGateway) { g.query = queryStatus(tc.status) })
			h.advance(2*time.Second, time.Second)
			got = h.want(op.ID, tc.want)
			if got.Reason == "" {
				t.Fatal("no reason")
			}
			refunds, err := h.e.Refunds(context.Background(), op.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.refund {
				if len(refunds) != 0 {
					t.Fatalf("unexpected refunds %+v", refunds)
				}
				return
			}
			if len(refunds) != 1 || !refunds[0].Auto || refunds[0].Amount != 1000 ||
				refunds[0].State != StateRefunded || !strings.Contains(got.Reason, refunds[0].ID) {
				t.Fatalf("auto refund %+v, sale reason %q", refunds, got.Reason)
			}
		})
	}
}

func TestAutoRefundDeclinedGoesManual(t *testing.T) {
	h := newHarness(t)
	op := deadlineSale(h, cancelRefused)
	h.gw.set(func(g *fakeGateway) {
		g.query = queryStatus(TradeSuccess)
		g.refund = func(RefundRequest) (RefundResult, error) {
			return RefundResult{Outcome: OutcomeDeclined, Code: "REFUND_AMT_RESTRICTION"}, nil
		}
	})
	h.advance(2*time.Second, time.Second)
	h.want(op.ID, StateCancelled)
	refunds, _ := h.e.Refunds(context.Background(), op.ID)
	r := h.want(refunds[0].ID, StateManual)
	if !strings.Contains(r.Reason, "REFUND_AMT_RESTRICTION") || !strings.Contains(r.Reason, "by hand") {
		t.Fatalf("reason %q", r.Reason)
	}
}

// A sale sent at 23:50 Beijing time whose cancel cannot be delivered before
// 00:15 the next day stops cancelling and checks the trade instead.
func TestCancelWindowClosesWhileOffline(t *testing.T) {
	h := newHarness(t)
	h.clk.Set(time.Date(2025, 3, 4, 23, 50, 0, 0, beijing()))
	op := deadlineSale(h, nil) // cancel: connection refused
	h.want(op.ID, StateCancelling)
	h.advance(30*time.Minute, 10*time.Second) // 00:15 passes
	got := h.want(op.ID, StateChecking)
	if !strings.Contains(got.Reason, "cancel window closed") {
		t.Fatalf("reason %q", got.Reason)
	}
	h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeClosed) })
	h.advance(6*time.Minute, 10*time.Second)
	h.want(op.ID, StateCancelled)
	if n := h.gw.count("cancel"); n == 0 {
		t.Fatal("no cancel was tried inside the window")
	}
}

func TestMaxAttemptsEndsInManual(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxAttempts = 3 })
	op := deadlineSale(h, nil)
	h.advance(10*time.Minute, time.Second)
	got := h.want(op.ID, StateManual)
	for _, want := range []string{"cancel not confirmed after 3 attempts", op.PartnerTransID, "resolve"} {
		if !strings.Contains(got.Reason, want) {
			t.Fatalf("reason %q lacks %q", got.Reason, want)
		}
	}
	if c, q := h.gw.count("cancel"), h.gw.count("query"); c != 3 || q != 17+3 {
		t.Fatalf("cancels %d, queries %d", c, q)
	}
}

func TestExpiryEndsInManual(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Expiry = 2 * time.Hour })
	op := h.paidSale("r1", 500)
	ref, err := h.e.SubmitRefund(context.Background(), Refund{Lane: "1", RefundRef: "f1",
		SaleID: op.ID, Amount: 500, Currency: "HKD"})
	if err != nil {
		t.Fatal(err)
	}
	h.advance(2*time.Hour+5*time.Minute, time.Minute) // refund: refused throughout
	got := h.want(ref.ID, StateManual)
	if !strings.Contains(got.Reason, "not finished 2h0m0s") || !strings.Contains(got.Reason, ref.PartnerRefundID) {
		t.Fatalf("reason %q", got.Reason)
	}
}

func TestCancelByECR(t *testing.T) {
	ctx := context.Background()
	t.Run("before the pay: voided, nothing sent", func(t *testing.T) {
		h := newHarness(t)
		op := h.sale("r1", 100)
		got, err := h.e.Cancel(ctx, op.ID)
		if err != nil || got.State != StateVoided {
			t.Fatalf("Cancel: %+v, %v", got, err)
		}
		if _, err := h.e.StartPay(ctx, op.ID, "281234567890123400"); !asErr(err, new(*StateError)) {
			t.Fatalf("pay after void: %v", err)
		}
		if len(h.gw.calls) != 0 {
			t.Fatalf("calls %v", h.gw.calls)
		}
	})
	t.Run("while querying: cancelled now, not at the deadline", func(t *testing.T) {
		h := newHarness(t)
		h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
		op := h.sale("r1", 100)
		h.pay(op.ID, "281234567890123411")
		h.advance(4*time.Second, time.Second)
		got, err := h.e.Cancel(ctx, op.ID)
		if err != nil || got.State != StateCancelling || !got.CancelRequested {
			t.Fatalf("Cancel: %+v, %v", got, err)
		}
		h.gw.set(func(g *fakeGateway) { g.cancel = cancelOK })
		h.settle()
		h.want(op.ID, StateCancelled)
		again, err := h.e.Cancel(ctx, op.ID)
		if err != nil || again.State != StateCancelled {
			t.Fatalf("second Cancel: %+v, %v", again, err)
		}
	})
	t.Run("paid, same day: cancelled", func(t *testing.T) {
		h := newHarness(t)
		op := h.paidSale("r1", 100)
		h.gw.set(func(g *fakeGateway) { g.cancel = cancelOK })
		if _, err := h.e.Cancel(ctx, op.ID); err != nil {
			t.Fatal(err)
		}
		h.settle()
		h.want(op.ID, StateCancelled)
	})
	t.Run("paid, next day: refused", func(t *testing.T) {
		h := newHarness(t)
		op := h.paidSale("r1", 100)
		h.advance(24*time.Hour, 12*time.Hour)
		_, err := h.e.Cancel(ctx, op.ID)
		var se *StateError
		if !asErr(err, &se) || !strings.Contains(se.Reason, "refund instead") {
			t.Fatalf("Cancel: %v", err)
		}
		h.want(op.ID, StatePaid)
	})
	t.Run("paid with a refund: refused", func(t *testing.T) {
		h := newHarness(t)
		op := h.paidSale("r1", 100)
		if _, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "f", SaleID: op.ID,
			Amount: 10, Currency: "HKD"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.e.Cancel(ctx, op.ID); !asErr(err, new(*StateError)) {
			t.Fatalf("Cancel: %v", err)
		}
	})
}

// A Cancel that arrives while a query is in flight wins: the late answer is
// logged as SUPERSEDED and the cancel goes out after it.
func TestCancelDuringCallSupersedesAnswer(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	entered := make(chan struct{})
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = func(id string) (QueryResult, error) {
			close(entered)
			<-release
			return queryStatus(TradeWaitBuyerPay)(id)
		}
		g.cancel = cancelOK
	})
	op := h.sale("r1", 100)
	h.pay(op.ID, "281234567890123411")
	h.settle()
	h.clk.Advance(3500 * time.Millisecond)
	if _, err := h.e.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-entered
	if _, err := h.e.Resolve(context.Background(), op.ID, StateDeclined, "x", "y"); !asErr(err, new(*StateError)) {
		t.Fatalf("Resolve during a call: %v", err)
	}
	if _, err := h.e.Cancel(context.Background(), op.ID); err != nil {
		t.Fatal(err)
	}
	close(release)
	h.settle()
	h.want(op.ID, StateCancelled)
	var sawLate bool
	for _, ev := range h.events(op.ID) {
		sawLate = sawLate || ev.Name == EventSuperseded && ev.Call == CallQuery
	}
	if !sawLate {
		t.Fatalf("no SUPERSEDED event: %v", h.names(op.ID))
	}
}

// TestManualReasonKeepsCodeOfAnError: every call refused with an unsigned
// ILLEGAL_SIGN (an error: Unknown) ends MANUAL with a reason that names the
// code and says to check the keys, not `last gateway code ""`.
func TestManualReasonKeepsCodeOfAnError(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxAttempts = 3 })
	refused := errors.New("alipay: gateway refused the signature: check keys (ILLEGAL_SIGN)")
	h.gw.set(func(g *fakeGateway) {
		g.pay = func(PayRequest) (PayResult, error) { return PayResult{Code: "ILLEGAL_SIGN"}, refused }
		g.query = func(string) (QueryResult, error) { return QueryResult{Code: "ILLEGAL_SIGN"}, refused }
		g.cancel = func(string) (CancelResult, error) { return CancelResult{Code: "ILLEGAL_SIGN"}, refused }
	})
	op := h.sale("r1", 1000)
	h.pay(op.ID, "281234567890123411")
	h.advance(15*time.Minute, time.Second)
	got := h.want(op.ID, StateManual)
	for _, want := range []string{`last gateway code "ILLEGAL_SIGN"`, "check the keys", op.PartnerTransID} {
		if !strings.Contains(got.Reason, want) {
			t.Fatalf("reason %q lacks %q", got.Reason, want)
		}
	}
	if got.LastCode != "ILLEGAL_SIGN" {
		t.Fatalf("last code %q", got.LastCode)
	}
}

// TestAbortNeverReversesAPaidSale: Abort stops a sale whose outcome is
// not known (waiting_scan → voided, querying → cancelling) but leaves a
// paid one paid — the check is in the cancel's own transaction, so a pay
// confirmed just before an ECR's ABORT is never reversed — while Cancel
// of the same paid sale is the explicit reversal.
func TestAbortNeverReversesAPaidSale(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	paid := h.paidSale("paid", 500)
	op, err := h.e.Abort(ctx, paid.ID)
	var se *StateError
	if !errors.As(err, &se) || op.State != StatePaid {
		t.Fatalf("Abort of a paid sale: %v, state %s", err, op.State)
	}
	h.settle()
	if got := h.get(paid.ID); got.State != StatePaid || h.gw.count("cancel") != 0 {
		t.Fatalf("after Abort: state %s, %d cancels", got.State, h.gw.count("cancel"))
	}
	if op, err := h.e.Cancel(ctx, paid.ID); err != nil || op.State != StateCancelling {
		t.Fatalf("Cancel of the paid sale: %v, state %s", err, op.State)
	}

	waiting := h.sale("waiting", 500)
	if op, err := h.e.Abort(ctx, waiting.ID); err != nil || op.State != StateVoided {
		t.Fatalf("Abort while waiting for the code: %v, state %s", err, op.State)
	}
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow })
	querying := h.sale("querying", 500)
	h.pay(querying.ID, "281234567890123411")
	h.settle()
	if op, err := h.e.Abort(ctx, querying.ID); err != nil || op.State != StateCancelling {
		t.Fatalf("Abort of an unknown pay: %v, state %s", err, op.State)
	}
}
