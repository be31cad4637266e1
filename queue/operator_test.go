package queue

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// manualSale returns a sale that ended in manual (cancel refused, trade
// state never learned).
func manualSale(h *harness) Operation {
	h.t.Helper()
	h.gw.set(func(g *fakeGateway) {
		g.pay = payUnknow
		g.query = func(string) (QueryResult, error) { return QueryResult{}, errOffline }
		g.cancel = cancelRefused
	})
	op := h.sale("m1", 100)
	h.pay(op.ID, "281234567890123400")
	h.advance(10*time.Minute, time.Second)
	return h.want(op.ID, StateManual)
}

func TestResolve(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxAttempts = 2 })
	ctx := context.Background()
	op := manualSale(h)
	if _, err := h.e.Resolve(ctx, op.ID, StateCancelled, " ", "ana"); !asErr(err, new(*InvalidError)) {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := h.e.Resolve(ctx, op.ID, StateRefunded, "x", "ana"); !asErr(err, new(*InvalidError)) {
		t.Fatalf("refund state for a sale: %v", err)
	}
	got, err := h.e.Resolve(ctx, op.ID, StateCancelled, "closed in the merchant portal", "ana")
	if err != nil || got.State != StateCancelled || !strings.Contains(got.Reason, "ana") {
		t.Fatalf("Resolve: %+v, %v", got, err)
	}
	evs := h.events(op.ID)
	last := evs[len(evs)-1]
	if last.Name != EventResolved || last.From != StateManual || last.To != StateCancelled ||
		!strings.Contains(last.Detail, "closed in the merchant portal") {
		t.Fatalf("event %+v", last)
	}
	if _, err := h.e.Resolve(ctx, op.ID, StateDeclined, "again", "ana"); !asErr(err, new(*StateError)) {
		t.Fatalf("resolving a final operation: %v", err)
	}
}

func TestRetryNow(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	op := deadlineSale(h, nil)
	h.advance(10*time.Minute, time.Minute)
	before := h.want(op.ID, StateCancelling)
	if !before.NextAttemptAt.After(h.clk.Now()) {
		t.Fatal("nothing scheduled")
	}
	h.gw.set(func(g *fakeGateway) { g.cancel = cancelOK })
	got, err := h.e.RetryNow(ctx, op.ID)
	if err != nil || !got.NextAttemptAt.Equal(h.clk.Now()) {
		t.Fatalf("RetryNow: %+v, %v", got, err)
	}
	h.settle()
	h.want(op.ID, StateCancelled)
	if _, err := h.e.RetryNow(ctx, op.ID); !asErr(err, new(*StateError)) {
		t.Fatalf("retry of a final operation: %v", err)
	}
	if _, err := h.e.RetryNow(ctx, "nope"); !isNotFound(err) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestListCountsEventsExport(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	paid := h.paidSale("p1", 1250)
	h.clk.Advance(time.Hour)
	waiting := h.sale("w1", 300)
	if _, err := h.e.SubmitSale(ctx, Sale{Lane: "2", Ref: "w2", Amount: 7, Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	list := func(f Filter) []string {
		ops, err := h.e.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, o := range ops {
			refs = append(refs, o.Ref)
		}
		return refs
	}
	check := func(name string, got []string, want ...string) {
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check("all", list(Filter{Order: OldestFirst}), "p1", "w1", "w2")
	check("newest first, limit", list(Filter{Limit: 2}), "w2", "w1")
	check("state", list(Filter{States: []State{StatePaid}}), "p1")
	check("lane", list(Filter{Lane: "2"}), "w2")
	check("since", list(Filter{Since: testStart.Add(time.Minute), Order: OldestFirst}), "w1", "w2")
	check("until", list(Filter{Until: testStart.Add(time.Minute)}), "p1")
	check("kind", list(Filter{Kind: KindRefund}))
	counts, err := h.e.Counts(ctx)
	if err != nil || counts[StatePaid] != 1 || counts[StateWaitingScan] != 2 || len(counts) != 2 {
		t.Fatalf("Counts: %v, %v", counts, err)
	}
	if op, err := h.e.GetByRef(ctx, "1", KindSale, "w1"); err != nil || op.ID != waiting.ID {
		t.Fatalf("GetByRef: %v", err)
	}
	if _, err := h.e.Events(ctx, "nope"); !isNotFound(err) {
		t.Fatalf("Events of nothing: %v", err)
	}

	var buf bytes.Buffer
	if err := h.e.Export(ctx, &buf, testStart, testStart.Add(2*time.Hour), ExportCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "id" || rows[1][0] != paid.ID ||
		rows[1][8] != paid.AlipayTransID || rows[1][9] != "1250" || rows[1][13] != "**************3400" {
		t.Fatalf("csv %v, %v", rows, err)
	}
	buf.Reset()
	if err := h.e.Export(ctx, &buf, testStart, testStart.Add(time.Minute), ExportJSON); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &recs); err != nil || len(recs) != 1 ||
		recs[0]["amount"] != 1250.0 || recs[0]["state"] != "paid" {
		t.Fatalf("json %s, %v", buf.String(), err)
	}
	if err := h.e.Export(ctx, &buf, testStart, testStart, "xml"); !asErr(err, new(*InvalidError)) {
		t.Fatalf("xml: %v", err)
	}
}

func TestSubscribers(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SubscriberBuffer = 3 })
	fast := h.e.Subscribe()
	slow := h.e.Subscribe() // never read
	var got []Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range fast.C() {
			got = append(got, ev)
		}
	}()
	for _, ref := range []string{"a", "b"} {
		h.paidSale(ref, 100)
	}
	if slow.Dropped() == 0 {
		t.Fatal("a full subscriber did not count drops")
	}
	slow.Close()
	fast.Close()
	<-done
	if len(got)+int(fast.Dropped()) != 6 {
		t.Fatalf("fast subscriber: %d events + %d dropped, want 6", len(got), fast.Dropped())
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Fatalf("out of order: %d after %d", got[i].Seq, got[i-1].Seq)
		}
	}
	if got[0].Lane != "1" || got[0].Ref != "a" || got[0].Kind != KindSale || got[0].Name != EventWaitScan {
		t.Fatalf("first event %+v", got[0])
	}
}

// TestRetryNowRefusedWhileClaimed: a retry asked while the scheduler (or a
// gateway call) still holds the operation is refused like any other when
// the operation has nothing left to attempt — a MANUAL sale the pass just
// ended is not "retrying" — and answered with the operation otherwise.
func TestRetryNowRefusedWhileClaimed(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxAttempts = 2 }) // as TestResolve: manualSale needs it
	ctx := context.Background()
	op := manualSale(h)
	if !h.e.claim(op.ID) {
		t.Fatal("claim")
	}
	_, err := h.e.RetryNow(ctx, op.ID)
	h.e.release(op.ID)
	if !asErr(err, new(*StateError)) {
		t.Fatalf("retry of a claimed MANUAL operation: %v, want a StateError", err)
	}

	h = newHarness(t)
	pending := deadlineSale(h, nil)
	h.advance(10*time.Minute, time.Minute)
	h.want(pending.ID, StateCancelling)
	if !h.e.claim(pending.ID) {
		t.Fatal("claim")
	}
	got, err := h.e.RetryNow(ctx, pending.ID)
	h.e.release(pending.ID)
	if err != nil || got.State != StateCancelling {
		t.Fatalf("retry of a claimed cancelling operation: %+v, %v (want it as it is)", got, err)
	}
}
