package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Commit before call: a write-ahead record exists only once its COMMIT
// returned without error. These tests make the journal's COMMIT fail (a
// commit hook on a real SQLite file refuses it, as a full disk would) at
// every place the engine starts a gateway call, and check that no call
// leaves, the caller hears an error, no claim is left behind and the row is
// unchanged; then, with commits working again, a retry calls exactly once.

// wantCommitErr checks that err is the refused COMMIT.
func wantCommitErr(t *testing.T, err error) {
	t.Helper()
	var se sqlite3.Error
	if !errors.As(err, &se) || se.ExtendedCode != sqlite3.ErrConstraintCommitHook {
		t.Fatalf("error %v, want the refused COMMIT (SQLITE_CONSTRAINT_COMMITHOOK)", err)
	}
}

// calls returns the number of gateway calls made so far.
func (h *harness) calls() int {
	h.t.Helper()
	h.e.calls.Wait()
	h.gw.mu.Lock()
	defer h.gw.mu.Unlock()
	return len(h.gw.calls)
}

// wantUntouched checks that nothing of a failed write is left: no claim,
// no call in flight, no answer waiting, and op's row as it was.
func (h *harness) wantUntouched(before Operation) {
	h.t.Helper()
	h.e.calls.Wait()
	h.e.mu.Lock()
	_, held := h.e.busy[before.ID]
	inflight, results := h.e.inflight, len(h.e.results)
	h.e.mu.Unlock()
	if held || inflight != 0 || results != 0 {
		h.t.Fatalf("after a failed commit: claim held %v, %d calls in flight, %d answers waiting",
			held, inflight, results)
	}
	got := h.get(before.ID)
	if got.Version != before.Version || got.State != before.State || got.Attempts != before.Attempts ||
		!got.NextAttemptAt.Equal(before.NextAttemptAt) {
		h.t.Fatalf("row changed by a failed commit:\n got %+v\nwant %+v", got, before)
	}
}

// failingCycle runs one scheduler pass with commits refused and checks that
// it reports the error and calls nothing.
func (h *harness) failingCycle() {
	h.t.Helper()
	n := h.calls()
	h.failCommit.Store(true)
	_, err := h.e.cycle(context.Background())
	h.failCommit.Store(false)
	wantCommitErr(h.t, err)
	if got := h.calls(); got != n {
		h.t.Fatalf("%d gateway calls after a failed commit: %v", got-n, h.gw.calls[n:])
	}
}

func TestCommitFailSubmitSaleWithCodeNeverPays(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) { g.pay = payOK })
	ctx := context.Background()
	s := Sale{Lane: "1", Ref: "r1", Amount: 500, Currency: "HKD", Subject: "Tickets", Terminal: "T1",
		BuyerCode: "281234567890123400"}
	h.failCommit.Store(true)
	submitted, err := h.e.SubmitSale(ctx, s)
	op := submitted.Op
	h.failCommit.Store(false)
	wantCommitErr(t, err)
	if op.ID != "" || submitted.Sent {
		t.Fatalf("a sale that was not recorded was returned: %+v", submitted)
	}
	if n := h.calls(); n != 0 {
		t.Fatalf("the pay was sent although its write-ahead record was not committed: %v", h.gw.calls)
	}
	h.e.mu.Lock()
	busy, inflight := len(h.e.busy), h.e.inflight
	h.e.mu.Unlock()
	if busy != 0 || inflight != 0 {
		t.Fatalf("after a failed commit: %d claims, %d calls in flight", busy, inflight)
	}
	if _, err := h.e.GetByRef(ctx, "1", KindSale, "r1"); !isNotFound(err) {
		t.Fatalf("GetByRef after a failed commit: %v, want not found", err)
	}
	// The ECR repeats the SALE once the disk has room: one pay, paid.
	submitted, err = h.e.SubmitSale(ctx, s)
	op = submitted.Op
	if err != nil || !submitted.Sent {
		t.Fatalf("repeat once the disk has room: %+v, %v", submitted, err)
	}
	h.settle()
	h.want(op.ID, StatePaid)
	if n := h.gw.count("pay"); n != 1 {
		t.Fatalf("%d pays, want 1", n)
	}
}

// payOK answers a pay with success.
func payOK(r PayRequest) (PayResult, error) {
	return PayResult{Outcome: OutcomeSuccess, RawStatus: "SUCCESS",
		TradeInfo: TradeInfo{AlipayTransID: "2025" + r.PartnerTransID}}, nil
}

func TestCommitFailStartPayNeverPays(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) { g.pay = payOK })
	before := h.sale("r1", 500)
	h.failCommit.Store(true)
	res, err := h.e.StartPay(context.Background(), before.ID, "281234567890123400")
	h.failCommit.Store(false)
	wantCommitErr(t, err)
	if res.Sent {
		t.Fatal("StartPay says it sent the pay although its commit failed")
	}
	if n := h.calls(); n != 0 {
		t.Fatalf("the pay was sent although its write-ahead record was not committed: %v", h.gw.calls)
	}
	h.wantUntouched(before)
	h.pay(before.ID, "281234567890123400")
	h.settle()
	h.want(before.ID, StatePaid)
	if n := h.gw.count("pay"); n != 1 {
		t.Fatalf("%d pays, want 1", n)
	}
}

// TestCommitFailSchedulerCalls covers the scheduler's calls: a poll, the
// cancel at the deadline, a cancel retry, a check query and a refund retry.
func TestCommitFailSchedulerCalls(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness) Operation // returns the operation due next
		call  string
		want  State
	}{
		{"query", func(h *harness) Operation {
			h.gw.set(func(g *fakeGateway) { g.pay = payUnknow })
			op := h.sale("r1", 500)
			h.pay(op.ID, "281234567890123400")
			h.settle()
			h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeSuccess) })
			return h.want(op.ID, StateQuerying)
		}, "query", StatePaid},
		{"cancel at the deadline", func(h *harness) Operation {
			h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
			op := h.sale("r1", 500)
			h.pay(op.ID, "281234567890123400")
			h.advance(59500*time.Millisecond, 500*time.Millisecond) // the last poll; the cancel is next
			h.gw.set(func(g *fakeGateway) { g.cancel = cancelOK })
			return h.want(op.ID, StateQuerying)
		}, "cancel", StateCancelled},
		{"cancel retry", func(h *harness) Operation {
			op := deadlineSale(h, nil) // cancel unanswered: retried with backoff
			h.gw.set(func(g *fakeGateway) { g.cancel = cancelOK })
			return h.want(op.ID, StateCancelling)
		}, "cancel", StateCancelled},
		{"check", func(h *harness) Operation {
			op := deadlineSale(h, cancelRefused)
			h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeClosed) })
			return h.want(op.ID, StateChecking)
		}, "query", StateCancelled},
		{"refund retry", func(h *harness) Operation {
			sale := h.paidSale("r1", 500)
			ref, err := h.e.SubmitRefund(context.Background(), Refund{Lane: "1", RefundRef: "f1",
				SaleID: sale.ID, Amount: 500, Currency: "HKD"})
			if err != nil {
				h.t.Fatal(err)
			}
			h.settle() // the refund is unanswered: retried with backoff
			h.gw.set(func(g *fakeGateway) { g.refund = refundOK })
			return h.want(ref.ID, StateRefunding)
		}, "refund", StateRefunded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			before := tc.setup(h)
			h.clk.Set(before.NextAttemptAt) // due now
			n := h.gw.count(tc.call)
			h.failingCycle()
			h.wantUntouched(before)
			h.settle()
			h.want(before.ID, tc.want)
			if got := h.gw.count(tc.call); got != n+1 {
				t.Fatalf("%d %s calls after the commit worked again, want 1", got-n, tc.call)
			}
		})
	}
}

func TestCommitFailECRCancelThenCancelsOnce(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.cancel = cancelOK })
	op := h.sale("r1", 500)
	h.pay(op.ID, "281234567890123400")
	h.settle()
	before := h.want(op.ID, StateQuerying)
	h.failCommit.Store(true)
	_, err := h.e.Cancel(context.Background(), op.ID)
	h.failCommit.Store(false)
	wantCommitErr(t, err)
	h.wantUntouched(before)
	if _, err := h.e.Cancel(context.Background(), op.ID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.want(op.ID, StateCancelled)
	if n := h.gw.count("cancel"); n != 1 {
		t.Fatalf("%d cancels, want 1", n)
	}
}

func TestCommitFailSubmitRefundSendsNothing(t *testing.T) {
	h := newHarness(t)
	sale := h.paidSale("r1", 500)
	h.gw.set(func(g *fakeGateway) { g.refund = refundOK })
	r := Refund{Lane: "1", RefundRef: "f1", SaleID: sale.ID, Amount: 500, Currency: "HKD"}
	h.failCommit.Store(true)
	_, err := h.e.SubmitRefund(context.Background(), r)
	h.failCommit.Store(false)
	wantCommitErr(t, err)
	h.settle()
	if n := h.gw.count("refund"); n != 0 {
		t.Fatalf("%d refunds sent for a refund that was never recorded", n)
	}
	if _, err := h.e.GetByRef(context.Background(), "1", KindRefund, "f1"); !isNotFound(err) {
		t.Fatalf("GetByRef: %v, want not found", err)
	}
	ref, err := h.e.SubmitRefund(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.want(ref.ID, StateRefunded)
	if n := h.gw.count("refund"); n != 1 {
		t.Fatalf("%d refunds, want 1", n)
	}
}

func TestCommitFailRetryNow(t *testing.T) {
	h := newHarness(t)
	op := deadlineSale(h, nil) // the cancel is retried with backoff
	before := h.want(op.ID, StateCancelling)
	if !before.NextAttemptAt.After(h.clk.Now()) {
		t.Fatalf("cancel retry not in the future: %v", before.NextAttemptAt)
	}
	h.failCommit.Store(true)
	_, err := h.e.RetryNow(context.Background(), op.ID)
	h.failCommit.Store(false)
	wantCommitErr(t, err)
	h.wantUntouched(before)
	n := h.gw.count("cancel")
	h.settle()
	if got := h.gw.count("cancel"); got != n {
		t.Fatalf("a failed RetryNow made %d cancels", got-n)
	}
	h.gw.set(func(g *fakeGateway) { g.cancel = cancelOK })
	if _, err := h.e.RetryNow(context.Background(), op.ID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.want(op.ID, StateCancelled)
	if got := h.gw.count("cancel"); got != n+1 {
		t.Fatalf("%d cancels after RetryNow, want 1", got-n)
	}
}

// TestCommitFailRecordingAnAnswer: an answer whose recording fails is kept
// (the operation stays claimed, no second call goes out) and recorded once
// the journal accepts it.
func TestCommitFailRecordingAnAnswer(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
	op := h.sale("r1", 500)
	h.pay(op.ID, "281234567890123400")
	h.settle()
	h.clk.Advance(3500 * time.Millisecond)
	if _, err := h.e.cycle(context.Background()); err != nil { // the first query goes out
		t.Fatal(err)
	}
	h.calls() // and is answered
	h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeSuccess) })
	h.clk.Advance(3500 * time.Millisecond) // the next query is due too
	h.failingCycle()
	h.e.mu.Lock()
	_, held := h.e.busy[op.ID]
	waiting := len(h.e.results)
	h.e.mu.Unlock()
	if !held || waiting != 1 {
		t.Fatalf("answer of a failed record: claim held %v, %d answers waiting; want held, 1", held, waiting)
	}
	h.settle()
	h.want(op.ID, StatePaid)
	if n := h.gw.count("query"); n != 2 {
		t.Fatalf("%d queries, want 2", n)
	}
	waits := 0
	for _, ev := range h.events(op.ID) {
		if ev.Name == EventWaitBuyerConfirm && ev.Call == CallQuery {
			waits++
		}
	}
	if waits != 1 {
		t.Fatalf("the first query's answer was recorded %d times, want 1", waits)
	}
}

// TestCommitFailRecovery: a journal whose recovery cannot be committed is
// not opened (and so nothing is sent); opened later, the sale caught mid-pay
// is queried, never paid again.
func TestCommitFailRecovery(t *testing.T) {
	h := newHarness(t)
	op := h.sale("r1", 500)
	crashMidPay(t, h, op)
	if err := h.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.gw.set(func(g *fakeGateway) { g.pay = payOK; g.query = queryStatus(TradeSuccess) })
	h.failCommit.Store(true)
	e, err := Open(context.Background(), h.path, h.gw, h.cfg)
	h.failCommit.Store(false)
	if err == nil {
		_ = e.Close(context.Background())
		t.Fatal("Open succeeded although its recovery could not be committed")
	}
	wantCommitErr(t, err)
	if n := len(h.gw.calls); n != 0 {
		t.Fatalf("gateway calls while opening: %v", h.gw.calls)
	}
	h.open()
	h.want(op.ID, StateQuerying)
	h.settle()
	h.want(op.ID, StatePaid)
	if p, q := h.gw.count("pay"), h.gw.count("query"); p != 0 || q != 1 {
		t.Fatalf("%d pays, %d queries after recovery; want 0, 1", p, q)
	}
}
