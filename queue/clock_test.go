package queue

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// Clocks: the wall clock is stepped (NTP correcting a fast or slow clock)
// while operations poll, cancel and refund; the engine must keep their
// cadence. Each test runs the same script on a control engine whose clock
// is never stepped and compares what reached the gateway.

// stepScript is a till with three open operations: a sale whose pay outcome
// is unknown (querying, then cancelling at its deadline), and a refund the
// gateway does not answer (retried with backoff). The gateway answers no
// cancel and no refund.
type stepScript struct {
	sale, refund Operation
}

func newStepScript(h *harness) stepScript {
	h.t.Helper()
	paid := h.paidSale("p1", 900)
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = queryStatus(TradeWaitBuyerPay)
		g.refund = nil
		g.cancel = nil
	})
	ref, err := h.e.SubmitRefund(context.Background(), Refund{Lane: "1", RefundRef: "f1",
		SaleID: paid.ID, Amount: 900, Currency: "HKD"})
	if err != nil {
		h.t.Fatal(err)
	}
	sale := h.sale("s1", 500)
	h.pay(sale.ID, "281234567890123400")
	h.settle()
	return stepScript{sale: sale, refund: ref}
}

// counts returns the gateway calls by kind.
func (h *harness) counts() map[string]int {
	h.t.Helper()
	h.e.calls.Wait()
	return map[string]int{"pay": h.gw.count("pay"), "query": h.gw.count("query"),
		"cancel": h.gw.count("cancel"), "refund": h.gw.count("refund")}
}

func sameCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

// TestClockStepWhileRunning steps the wall clock back an hour, and forward
// past Expiry, while the operations are being attempted: the engine keeps
// their cadence (same calls as the control), the sale reaches its cancel at
// its pay deadline, nothing goes manual; once idle, the engine's time is
// the wall clock again.
func TestClockStepWhileRunning(t *testing.T) {
	for _, step := range []time.Duration{-time.Hour, 8 * 24 * time.Hour} {
		t.Run(step.String(), func(t *testing.T) {
			control, h := newHarness(t), newHarness(t)
			cs, s := newStepScript(control), newStepScript(h)
			control.advance(20*time.Second, 500*time.Millisecond)
			h.advance(20*time.Second, 500*time.Millisecond)
			h.clk.Step(step)
			for i := 0; i < 3; i++ {
				control.advance(30*time.Second, 500*time.Millisecond)
				h.advance(30*time.Second, 500*time.Millisecond)
				want, got := control.counts(), h.counts()
				if !sameCounts(want, got) {
					t.Fatalf("after %ds: gateway calls %v, without the step %v", 20+30*(i+1), got, want)
				}
			}
			for _, x := range []struct{ c, g Operation }{{cs.sale, s.sale}, {cs.refund, s.refund}} {
				want, got := control.get(x.c.ID), h.get(x.g.ID)
				if got.State != want.State || got.Attempts != want.Attempts {
					t.Fatalf("%s: %s after %d attempts, without the step %s after %d (reason %q)",
						got.Kind, got.State, got.Attempts, want.State, want.Attempts, got.Reason)
				}
			}
			h.want(s.sale.ID, StateCancelling) // its pay deadline passed on time
			h.want(s.refund.ID, StateRefunding)
			if n := h.gw.count("query"); n < 15 {
				t.Fatalf("%d queries in the 60 s before the deadline, want ~16", n)
			}

			// Idle again: the engine re-anchors to the wall clock.
			h.gw.set(func(g *fakeGateway) { g.cancel = cancelOK; g.refund = refundOK })
			h.advance(6*time.Minute, time.Second)
			h.want(s.sale.ID, StateCancelled)
			h.want(s.refund.ID, StateRefunded)
			h.settle()
			if _, err := h.e.cycle(context.Background()); err != nil {
				t.Fatal(err)
			}
			if now, wall := h.e.clk.now(), h.clk.Now(); !now.Equal(wall) {
				t.Fatalf("idle engine's time %v, wall clock %v", now, wall)
			}
			if op := h.sale("s2", 100); !op.CreatedAt.Equal(h.clk.Now().Truncate(time.Millisecond)) {
				t.Fatalf("new sale created at %v, wall clock %v", op.CreatedAt, h.clk.Now())
			}
		})
	}
}

// TestClockResyncWaitsForIdle: while anything is scheduled, the engine's
// time keeps its monotonic basis even after the wall clock was stepped.
func TestClockResyncWaitsForIdle(t *testing.T) {
	h := newHarness(t)
	waiting := h.sale("w1", 100) // scheduled: its scan timeout
	h.clk.Step(-time.Hour)
	h.clk.Advance(time.Second)
	h.settle()
	if _, err := h.e.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.e.clk.now(); !got.Equal(testStart.Add(time.Second)) {
		t.Fatalf("engine time %v with a sale waiting, want %v (monotonic basis)", got, testStart.Add(time.Second))
	}
	if _, err := h.e.Cancel(context.Background(), waiting.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.e.clk.now(); !got.Equal(h.clk.Now()) {
		t.Fatalf("idle engine time %v, want the wall clock %v", got, h.clk.Now())
	}
}

// TestClockStepBackAcrossRestart: the clock is stepped back an hour while the
// daemon is stopped; at start-up the engine has no monotonic basis for the
// stored times. The recovered operations are attempted at once, and the
// sale's pay deadline is at most PayDeadline away.
func TestClockStepBackAcrossRestart(t *testing.T) {
	h := newHarness(t)
	s := newStepScript(h)
	h.advance(20*time.Second, 500*time.Millisecond)
	h.clk.Step(-time.Hour)
	h.restart()
	before := h.counts()
	h.settle() // no time passes
	after := h.counts()
	if after["query"] != before["query"]+1 || after["refund"] != before["refund"]+1 {
		t.Fatalf("calls right after the restart %v → %v: want one query and one refund", before, after)
	}
	for _, id := range []string{s.sale.ID, s.refund.ID} {
		evs := h.events(id)
		i := slices.IndexFunc(evs, func(ev Event) bool {
			return ev.Name == EventRecovered && strings.Contains(ev.Detail, "stepped back")
		})
		if i < 0 {
			t.Fatalf("no RECOVERED event about the clock for %s: %+v", id, evs)
		}
	}
	if left := h.e.UntilPayDeadline(h.get(s.sale.ID)); left <= 0 || left > h.e.cfg.PayDeadline {
		t.Fatalf("pay deadline in %v after the restart, want within (0, %v]", left, h.e.cfg.PayDeadline)
	}
	h.advance(61*time.Second, 500*time.Millisecond)
	h.want(s.sale.ID, StateCancelling)
	if n := h.gw.count("cancel"); n == 0 {
		t.Fatal("no cancel within PayDeadline of the restart")
	}
}

// TestClockStepForwardAcrossRestart: the clock is stepped past Expiry while
// the daemon is stopped. No operation goes manual without an attempt in its
// state; each is attempted.
func TestClockStepForwardAcrossRestart(t *testing.T) {
	h := newHarness(t)
	paid := h.paidSale("p1", 900)
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
	ref, err := h.e.SubmitRefund(context.Background(), Refund{Lane: "1", RefundRef: "f1",
		SaleID: paid.ID, Amount: 900, Currency: "HKD"}) // due now, not yet attempted
	if err != nil {
		t.Fatal(err)
	}
	cancelled := h.sale("c1", 500)
	h.pay(cancelled.ID, "281234567890123400")
	if _, err := h.e.Cancel(context.Background(), cancelled.ID); err != nil {
		t.Fatal(err)
	}
	midPay := h.sale("m1", 500)
	crashMidPay(t, h, midPay)
	if err := h.e.Close(context.Background()); err != nil { // stopped before any attempt
		t.Fatal(err)
	}
	h.clk.Step(8 * 24 * time.Hour)
	h.open()
	before := h.counts()
	h.settle()
	after := h.counts()
	for _, id := range []string{ref.ID, cancelled.ID, midPay.ID} {
		if op := h.get(id); op.State == StateManual {
			t.Fatalf("%s went manual untried after a step forward: %s", id, op.Reason)
		}
	}
	if after["refund"] != before["refund"]+1 || after["query"] < before["query"]+2 {
		t.Fatalf("calls after the restart %v → %v: want the refund and a query of each sale", before, after)
	}
}

// TestUntilPayDeadline: the sale's remaining time to its pay deadline is on
// the monotonic basis, whatever the wall clock does.
func TestUntilPayDeadline(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
	op := h.sale("s1", 500)
	if d := h.e.UntilPayDeadline(op); d != 0 {
		t.Fatalf("waiting_scan: %v, want 0", d)
	}
	h.pay(op.ID, "281234567890123400")
	h.advance(10*time.Second, time.Second)
	h.clk.Step(-time.Hour)
	if d := h.e.UntilPayDeadline(h.get(op.ID)); d != 50*time.Second {
		t.Fatalf("after 10 s and a step back: %v, want 50s", d)
	}
	h.clk.Step(2 * time.Hour)
	if d := h.e.UntilPayDeadline(h.get(op.ID)); d != 50*time.Second {
		t.Fatalf("after a step forward: %v, want 50s", d)
	}
}
