package queue

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// The harness commits from the test goroutine (no Run), and the engine
// offers a commit's states before the write returns: what a watcher has
// not received yet is in its channel when the call that committed returns.

// pending returns the update waiting in c, if any, and whether c is still
// open.
func pending(t *testing.T, c <-chan Update) (u Update, got, open bool) {
	t.Helper()
	select {
	case u, ok := <-c:
		return u, ok, ok
	default:
		return Update{}, false, true
	}
}

// next returns the update waiting in c; it fails the test if there is none.
func (h *harness) next(c <-chan Update) Update {
	h.t.Helper()
	u, got, open := pending(h.t, c)
	if !got {
		h.t.Fatalf("no update waiting (channel open: %v)", open)
	}
	return u
}

// asGet checks that u is the operation exactly as Get reads it now.
func (h *harness) asGet(u Update) {
	h.t.Helper()
	if cur := h.get(u.Op.ID); !reflect.DeepEqual(u.Op, cur) {
		h.t.Fatalf("watched state differs from Get:\n watched %+v\n get     %+v", u.Op, cur)
	}
}

// closed checks that c has nothing more and is closed.
func closed(t *testing.T, c <-chan Update) {
	t.Helper()
	if u, ok := <-c; ok {
		t.Fatalf("update after the end: %+v", u.Op)
	}
}

// A watch started after changes begins with the state as it is now, then
// follows; the final state comes, then the channel closes.
func TestWatchStartsWithCurrentState(t *testing.T) {
	h := newHarness(t)
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
	op := h.sale("w1", 500)
	h.pay(op.ID, "281234567890123410")
	h.settle()
	c, err := h.e.Watch(context.Background(), op.ID)
	if err != nil {
		t.Fatal(err)
	}
	first := h.next(c)
	if first.Op.State != StateQuerying || first.Event != EventWaitBuyerConfirm {
		t.Fatalf("first update: %s %s, want querying WAIT_BUYER_CONFIRM", first.Op.State, first.Event)
	}
	h.asGet(first)
	if _, got, open := pending(t, c); got || !open {
		t.Fatalf("more than the current state before any change (open %v)", open)
	}
	h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeSuccess) })
	h.advance(3500*time.Millisecond, time.Second)
	last := h.next(c)
	if last.Op.State != StatePaid || last.Event != EventApproved {
		t.Fatalf("last update: %s %s", last.Op.State, last.Event)
	}
	h.asGet(last)
	closed(t, c)
}

// A watcher that keeps up receives every commit, in order, each exactly as
// Get reads it at that moment.
func TestWatchKeepsUpWithEveryCommit(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.cancel = cancelOK })
	op := h.sale("w1", 500)
	c, err := h.e.Watch(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		do    func()
		state State
		event EventName
	}
	steps := []step{
		{func() {}, StateWaitingScan, EventWaitScan},
		{func() { h.pay(op.ID, "281234567890123410") }, StatePaying, EventSent},
		{func() { h.e.calls.Wait(); h.cycle() }, StateQuerying, EventWaitBuyerConfirm},
		{func() {
			if _, err := h.e.Cancel(ctx, op.ID); err != nil {
				t.Fatal(err)
			}
		}, StateCancelling, EventCancelling},
		{h.cycle, StateCancelling, EventAttempt}, // the cancel's write-ahead record
		{func() { h.e.calls.Wait(); h.cycle() }, StateCancelled, EventCancelled},
	}
	var version int64
	for i, s := range steps {
		s.do()
		u := h.next(c)
		if u.Op.State != s.state || u.Event != s.event {
			t.Fatalf("step %d: %s %s, want %s %s", i, u.Op.State, u.Event, s.state, s.event)
		}
		if u.Op.Version != version+1 {
			t.Fatalf("step %d: version %d after %d: a commit was not delivered", i, u.Op.Version, version)
		}
		version = u.Op.Version
		h.asGet(u)
	}
	closed(t, c)
}

// cycle runs one scheduler pass.
func (h *harness) cycle() {
	h.t.Helper()
	if _, err := h.e.cycle(context.Background()); err != nil {
		h.t.Fatalf("cycle: %v", err)
	}
}

// A watcher that reads nothing never holds the engine up: the sale goes
// through all its commits, and the watcher then finds only the latest
// state — the final one — and the end. Another watcher of the same
// operation that reads as it goes sees the states in order.
func TestWatchSlowWatcherGetsTheLatestAndTheFinal(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
	op := h.sale("w1", 500)
	slow, err := h.e.Watch(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	eager, err := h.e.Watch(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	var seen []Update
	read := func() {
		for {
			u, got, _ := pending(t, eager)
			if !got {
				return
			}
			seen = append(seen, u)
		}
	}
	h.pay(op.ID, "281234567890123410")
	read()
	for range 5 { // queries answered WAIT_BUYER_PAY: a commit each
		h.advance(3500*time.Millisecond, time.Second)
		read()
	}
	h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeSuccess) })
	h.advance(3500*time.Millisecond, time.Second)
	read()
	final := h.want(op.ID, StatePaid)
	if final.Version < 10 {
		t.Fatalf("only %d commits; the test needs many", final.Version)
	}
	u := h.next(slow)
	if !reflect.DeepEqual(u.Op, final) || u.Event != EventApproved {
		t.Fatalf("slow watcher got %s v%d, want the final state v%d", u.Op.State, u.Op.Version, final.Version)
	}
	closed(t, slow)
	if len(seen) < 5 {
		t.Fatalf("the reading watcher saw %d updates", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Op.Version <= seen[i-1].Op.Version {
			t.Fatalf("update %d: version %d after %d", i, seen[i].Op.Version, seen[i-1].Op.Version)
		}
	}
	if last := seen[len(seen)-1]; !reflect.DeepEqual(last.Op, final) {
		t.Fatalf("reading watcher ended at %s v%d", last.Op.State, last.Op.Version)
	}
	closed(t, eager)
}

// Many watchers, on several operations, read concurrently with the engine's
// commits: each sees only its operation, in increasing versions, ending
// with the final state as Get reads it.
func TestWatchManyWatchers(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.gw.set(func(g *fakeGateway) {
		g.pay = func(r PayRequest) (PayResult, error) {
			if r.Amount == 300 {
				return PayResult{Outcome: OutcomeDeclined, Code: "BUYER_BALANCE_NOT_ENOUGH", RawStatus: "FAILED"}, nil
			}
			return payUnknow(r)
		}
		g.query = queryStatus(TradeSuccess)
		g.cancel = cancelOK
	})
	var ops []Operation
	for i, amount := range []int64{100, 200, 300, 400} {
		ops = append(ops, h.sale(string(rune('a'+i)), amount))
	}
	const perOp = 25
	var wg sync.WaitGroup
	got := make([][]Update, len(ops)*perOp)
	for i := range got {
		c, err := h.e.Watch(ctx, ops[i%len(ops)].ID)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for u := range c {
				got[i] = append(got[i], u)
			}
		})
	}
	for _, op := range ops[:3] {
		h.pay(op.ID, "281234567890123410")
	}
	if _, err := h.e.Cancel(ctx, ops[3].ID); err != nil { // voided before its code
		t.Fatal(err)
	}
	h.advance(8*time.Second, time.Second)
	wg.Wait() // every channel closed: each reached a final state
	for i, us := range got {
		want := h.get(ops[i%len(ops)].ID)
		if !want.Final() || len(us) == 0 {
			t.Fatalf("watcher %d: %d updates, operation %s", i, len(us), want.State)
		}
		for j, u := range us {
			if u.Op.ID != want.ID {
				t.Fatalf("watcher %d got operation %s, watches %s", i, u.Op.ID, want.ID)
			}
			if j > 0 && u.Op.Version <= us[j-1].Op.Version {
				t.Fatalf("watcher %d: version %d after %d", i, u.Op.Version, us[j-1].Op.Version)
			}
		}
		if last := us[len(us)-1]; !reflect.DeepEqual(last.Op, want) {
			t.Fatalf("watcher %d ended at %s v%d, journal has %s v%d", i, last.Op.State,
				last.Op.Version, want.State, want.Version)
		}
	}
	h.e.hub.mu.Lock()
	left := len(h.e.hub.watches)
	h.e.hub.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d operations still have watchers", left)
	}
}

// A watch ends with its context, closing its channel without a final
// state; Watch refuses a done context, an unknown operation and a closed
// engine, and a watch of a final operation delivers it and ends.
func TestWatchEnds(t *testing.T) {
	h := newHarness(t)
	op := h.sale("w1", 500)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := h.e.Watch(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u := h.next(c); u.Op.State != StateWaitingScan {
		t.Fatalf("first: %s", u.Op.State)
	}
	cancel()
	closed(t, c) // blocks until the context's end closed it
	if _, err := h.e.Watch(ctx, op.ID); !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch with a done context: %v", err)
	}
	if _, err := h.e.Watch(context.Background(), "01NOSUCHOPERATION000000000"); !isNotFound(err) {
		t.Fatalf("Watch of an unknown id: %v", err)
	}
	if _, err := h.e.Cancel(context.Background(), op.ID); err != nil {
		t.Fatal(err)
	}
	c, err = h.e.Watch(context.Background(), op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u := h.next(c); u.Op.State != StateVoided || u.Event != EventVoided {
		t.Fatalf("watch of a final operation: %s %s", u.Op.State, u.Event)
	}
	closed(t, c)

	other := h.sale("w2", 500)
	c, err = h.e.Watch(context.Background(), other.ID)
	if err != nil {
		t.Fatal(err)
	}
	h.next(c)
	if err := h.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	closed(t, c)
	if _, err := h.e.Watch(context.Background(), other.ID); !errors.Is(err, ErrClosed) {
		t.Fatalf("Watch after Close: %v", err)
	}
}

// Across a restart: the engine's close ends every watch without a final
// state; a watch on the reopened journal begins with the state recovery
// left (a sale waiting for its code is voided) and follows the rest.
func TestWatchAcrossRestart(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeWaitBuyerPay) })
	waiting := h.sale("w1", 500)
	polling := h.sale("w2", 700)
	h.pay(polling.ID, "281234567890123410")
	h.settle()
	var cs []<-chan Update
	for _, id := range []string{waiting.ID, polling.ID} {
		c, err := h.e.Watch(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		h.next(c)
		cs = append(cs, c)
	}
	h.restart()
	for _, c := range cs {
		closed(t, c)
	}
	c, err := h.e.Watch(ctx, waiting.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u := h.next(c); u.Op.State != StateVoided || u.Event != EventVoided {
		t.Fatalf("waiting sale after the restart: %s %s, want voided", u.Op.State, u.Event)
	}
	closed(t, c)
	c, err = h.e.Watch(ctx, polling.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u := h.next(c); u.Op.State != StateQuerying {
		t.Fatalf("polling sale after the restart: %s", u.Op.State)
	}
	h.gw.set(func(g *fakeGateway) { g.query = queryStatus(TradeSuccess) })
	h.advance(3500*time.Millisecond, time.Second)
	u := h.next(c)
	if u.Op.State != StatePaid {
		t.Fatalf("after the restart the watch ended at %s", u.Op.State)
	}
	h.asGet(u)
	closed(t, c)
}
