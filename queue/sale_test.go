package queue

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSaleApprovedAtOnce(t *testing.T) {
	h := newHarness(t)
	op := h.sale("r1", 1250)
	if op.State != StateWaitingScan || op.Kind != KindSale || op.Amount != 1250 {
		t.Fatalf("submitted: %+v", op)
	}
	if !strings.HasPrefix(op.PartnerTransID, "TBT01") || len(op.PartnerTransID) > 64 {
		t.Fatalf("partner_trans_id %q", op.PartnerTransID)
	}
	h.gw.set(func(g *fakeGateway) {
		g.pay = func(r PayRequest) (PayResult, error) {
			return PayResult{Outcome: OutcomeSuccess, RawStatus: "SUCCESS", TradeInfo: TradeInfo{
				AlipayTransID: "2025030422001", BuyerLogin: "ab***@x.com", AmountCNY: "11.32",
				ExchangeRate: "0.9056", PaidAt: testStart.Add(time.Second)}}, nil
		}
	})
	const code = "281234567890123400"
	paying := h.pay(op.ID, code)
	if paying.State != StatePaying || paying.BuyerMasked != "**************3400" || paying.Attempts != 1 {
		t.Fatalf("after StartPay: %+v", paying)
	}
	h.settle()
	got := h.want(op.ID, StatePaid)
	if got.AlipayTransID != "2025030422001" || got.AmountCNY != "11.32" || got.ExchangeRate != "0.9056" ||
		got.BuyerLogin != "ab***@x.com" || !got.PaidAt.Equal(testStart.Add(time.Second)) {
		t.Fatalf("trade info not recorded: %+v", got)
	}
	if !got.NextAttemptAt.IsZero() || got.FinalAt.IsZero() {
		t.Fatalf("final sale still scheduled: %+v", got)
	}
	if want := []EventName{EventWaitScan, EventSent, EventApproved}; !slices.Equal(h.names(op.ID), want) {
		t.Fatalf("events %v, want %v", h.names(op.ID), want)
	}
	if h.gw.codes[0] != code {
		t.Fatalf("gateway got code %q", h.gw.codes[0])
	}
	assertNoCodeOnDisk(t, h, code)
}

// assertNoCodeOnDisk checks that the full buyer code is in none of the
// journal's files (database, WAL).
func assertNoCodeOnDisk(t *testing.T, h *harness, code string) {
	t.Helper()
	files, _ := filepath.Glob(h.path + "*")
	if len(files) == 0 {
		t.Fatal("no journal files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(code)) {
			t.Fatalf("full buyer code found in %s", f)
		}
	}
}

func TestPayDeclined(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) {
		g.pay = func(PayRequest) (PayResult, error) {
			return PayResult{Outcome: OutcomeDeclined, Code: "BUYER_BALANCE_NOT_ENOUGH", RawStatus: "FAILED"}, nil
		}
	})
	op := h.sale("r1", 100)
	h.pay(op.ID, "281234567890123420")
	h.settle()
	got := h.want(op.ID, StateDeclined)
	if got.LastCode != "BUYER_BALANCE_NOT_ENOUGH" || !strings.Contains(got.Reason, "BUYER_BALANCE_NOT_ENOUGH") {
		t.Fatalf("declined sale: %+v", got)
	}
	if h.gw.count("query") != 0 || h.gw.count("cancel") != 0 {
		t.Fatalf("calls after a decline: %v", h.gw.calls)
	}
}

func TestPayUnknownThenQueryPaid(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = queryStatus(TradeWaitBuyerPay)
	})
	op := h.sale("r1", 100)
	h.pay(op.ID, "281234567890123410")
	h.settle()
	got := h.want(op.ID, StateQuerying)
	if want := testStart.Add(3500 * time.Millisecond); !got.NextAttemptAt.Equal(want) {
		t.Fatalf("first query at %v, want %v", got.NextAttemptAt, want)
	}
	if names := h.names(op.ID); names[len(names)-1] != EventWaitBuyerConfirm {
		t.Fatalf("events %v", names)
	}
	h.advance(3500*time.Millisecond, time.Second)
	h.want(op.ID, StateQuerying)
	if n := h.gw.count("query"); n != 1 {
		t.Fatalf("%d queries after 3.5 s, want 1", n)
	}
	h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeSuccess) })
	h.advance(3500*time.Millisecond, time.Second)
	got = h.want(op.ID, StatePaid)
	if got.AlipayTransID == "" || h.gw.count("pay") != 1 {
		t.Fatalf("paid by query: %+v, calls %v", got, h.gw.calls)
	}
}

func TestQueryClosedIsDeclined(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = queryStatus(TradeClosed)
	})
	op := h.sale("r1", 100)
	h.pay(op.ID, "281234567890123412")
	h.advance(4*time.Second, time.Second)
	got := h.want(op.ID, StateDeclined)
	if !strings.Contains(got.Reason, "TRADE_CLOSED") {
		t.Fatalf("reason %q", got.Reason)
	}
}

// Until the deadline, unknown answers (WAIT_BUYER_PAY, not found, errors)
// keep the sale polling on the planned cadence; at 60 s it is cancelled.
func TestDeadlineCancelsOnCadence(t *testing.T) {
	h := newHarness(t)
	answers := []func(string) (QueryResult, error){queryStatus(TradeWaitBuyerPay),
		queryStatus(TradeNotFound), func(string) (QueryResult, error) { return QueryResult{}, errOffline }}
	n := 0
	h.gw.set(func(g *fakeGateway) {
		g.pay = func(PayRequest) (PayResult, error) { return PayResult{}, errOffline }
		g.query = func(id string) (QueryResult, error) { n++; return answers[n%3](id) }
		g.cancel = cancelOK
	})
	op := h.sale("r1", 100)
	h.pay(op.ID, "281234567890123411")
	h.advance(59*time.Second, 250*time.Millisecond)
	h.want(op.ID, StateQuerying)
	h.advance(time.Second, 250*time.Millisecond)
	got := h.want(op.ID, StateCancelled)
	if got.CancelRequested {
		t.Fatal("deadline cancel marked as requested by the ECR")
	}
	var at []time.Duration
	for _, ev := range h.events(op.ID) {
		if ev.Call == CallQuery && ev.Name == EventAttempt {
			at = append(at, ev.At.Sub(testStart))
		}
	}
	if len(at) != 17 { // 3.5, 7, … 59.5 s
		t.Fatalf("%d queries, want 17: %v", len(at), at)
	}
	for i, d := range at {
		if want := time.Duration(i+1) * 3500 * time.Millisecond; d != want {
			t.Fatalf("query %d at %v, want %v", i+1, d, want)
		}
	}
	names := h.names(op.ID)
	if !slices.Contains(names, EventCancelling) || names[len(names)-1] != EventCancelled {
		t.Fatalf("events %v", names)
	}
}

func TestCancelRetriedWithBackoffUntilDelivered(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
	op := h.sale("r1", 100)
	h.pay(op.ID, "281234567890123434")
	h.advance(60*time.Second, 500*time.Millisecond)
	h.want(op.ID, StateCancelling)
	h.gw.set(func(g *fakeGateway) {
		g.cancel = func(string) (CancelResult, error) {
			return CancelResult{Outcome: OutcomeUnknown, Code: "SYSTEM_ERROR", RawStatus: "FAIL"}, nil
		}
	})
	// Two hours offline: retries at 2, 4, 8 … 256 s, then every 300 s.
	h.advance(2*time.Hour, time.Second)
	got := h.want(op.ID, StateCancelling)
	var gaps []time.Duration
	var last time.Time
	for _, ev := range h.events(op.ID) {
		if ev.Call == CallCancel && (ev.Name == EventAttempt || ev.Name == EventCancelling) {
			if !last.IsZero() {
				gaps = append(gaps, ev.At.Sub(last))
			}
			last = ev.At
		}
	}
	want := []time.Duration{2, 4, 8, 16, 32, 64, 128, 256, 300, 300}
	for i, w := range want {
		if gaps[i] != w*time.Second {
			t.Fatalf("gap %d = %v, want %v (all %v)", i, gaps[i], w*time.Second, gaps)
		}
	}
	if got.StateAttempts < 20 {
		t.Fatalf("only %d attempts in two hours", got.StateAttempts)
	}
	h.gw.set(func(g *fakeGateway) { g.cancel = cancelOK })
	h.advance(5*time.Minute, time.Second)
	h.want(op.ID, StateCancelled)
}

func TestScanTimeoutVoids(t *testing.T) {
	h := newHarness(t)
	op := h.sale("r1", 100)
	h.advance(15*time.Minute, time.Minute)
	got := h.want(op.ID, StateVoided)
	if got.Reason == "" || len(h.gw.calls) != 0 {
		t.Fatalf("voided: %+v calls %v", got, h.gw.calls)
	}
}

func TestRunDrivesSaleWithRealClock(t *testing.T) {
	gw := &fakeGateway{}
	queries := 0
	gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = func(id string) (QueryResult, error) {
			queries++
			if queries < 3 {
				return queryStatus(TradeWaitBuyerPay)(id)
			}
			return queryStatus(TradeSuccess)(id)
		}
	})
	cfg := Config{FirstQuery: 5 * time.Millisecond, QueryInterval: 5 * time.Millisecond,
		PayDeadline: 10 * time.Second}
	e, err := Open(context.Background(), filepath.Join(t.TempDir(), "j.db"), gw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sub := e.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	submitted, err := e.SubmitSale(ctx, Sale{Lane: "1", Ref: "r", Amount: 5, Currency: "HKD",
		BuyerCode: "281234567890123410"})
	op := submitted.Op
	if err != nil {
		t.Fatal(err)
	}
	var seen []EventName
	for ev := range sub.C() {
		if ev.OpID != op.ID {
			continue
		}
		seen = append(seen, ev.Name)
		if ev.To == StatePaid {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if seen[0] != EventWaitScan || seen[1] != EventSent || seen[2] != EventWaitBuyerConfirm ||
		seen[len(seen)-1] != EventApproved {
		t.Fatalf("events %v", seen)
	}
	if _, ok := <-sub.C(); ok {
		t.Fatal("subscription not closed by Close")
	}
	if _, err := e.SubmitSale(context.Background(), Sale{Lane: "1", Ref: "x", Amount: 1,
		Currency: "HKD"}); err != ErrClosed {
		t.Fatalf("submit after close: %v", err)
	}
}

func TestSubmitValidation(t *testing.T) {
	h := newHarness(t)
	bad := []Sale{
		{Ref: "r", Amount: 1, Currency: "HKD"},
		{Lane: "1", Amount: 1, Currency: "HKD"},
		{Lane: "1", Ref: "r", Amount: 0, Currency: "HKD"},
		{Lane: "1", Ref: "r", Amount: 1, Currency: "hkd"},
		{Lane: "1", Ref: strings.Repeat("r", 65), Amount: 1, Currency: "HKD"},
	}
	for _, s := range bad {
		_, err := h.e.SubmitSale(context.Background(), s)
		var ie *InvalidError
		if !asErr(err, &ie) {
			t.Errorf("%+v: err %v, want *InvalidError", s, err)
		}
	}
}

// TestReleasedClaimWakesTheScheduler: a scheduler pass that meets a due
// operation claimed by someone else (SubmitSale between its commit and the
// end of its claim, an operator's retry) skips it and sleeps as if nothing
// were due; giving up the claim must wake the scheduler, or a sale waiting
// for its code is voided up to a whole maxWait after its scan timeout.
func TestReleasedClaimWakesTheScheduler(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ScanTimeout = time.Second })
	op := h.sale("r1", 100)
	h.clk.Advance(time.Second) // due: the scan timeout is over
	select {
	case <-h.e.kick: // the submit's own wake-up
	default:
	}
	if !h.e.claim(op.ID) {
		t.Fatal("the operation is already claimed")
	}
	wait, err := h.e.cycle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.want(op.ID, StateWaitingScan) // skipped: claimed
	if wait < time.Second {
		t.Fatalf("the pass plans to wake in %v: the busy operation was not skipped as the test assumes", wait)
	}
	h.e.release(op.ID)
	select {
	case <-h.e.kick:
	default:
		t.Fatalf("releasing the claim did not wake the scheduler; it sleeps %v past the scan timeout", wait)
	}
	h.settle()
	h.want(op.ID, StateVoided)
}
