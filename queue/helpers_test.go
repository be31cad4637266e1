package queue

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// testStart is a Tuesday 10:00 in Beijing (02:00 UTC): far from the cut-off.
var testStart = time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC)

// fakeClock is a settable Clock: Advance and Set let time pass (the wall
// and the monotonic clock move together), Step steps the wall clock alone
// (NTP correcting it).
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	mono time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Monotonic() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.mono += d
}

// Set lets time pass until t (it must not be before the clock's time).
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.t) {
		panic("fakeClock.Set backwards: use Step")
	}
	c.mono += t.Sub(c.t)
	c.t = t
}

// Step steps the wall clock by d (either way); no time passes.
func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeGateway answers with its function fields (nil: Unknown) and records
// every call.
type fakeGateway struct {
	mu     sync.Mutex
	pay    func(PayRequest) (PayResult, error)
	query  func(string) (QueryResult, error)
	cancel func(string) (CancelResult, error)
	refund func(RefundRequest) (RefundResult, error)
	calls  []string // "pay TB…", "query TB…", …
	codes  []string // buyer codes received
}

var errOffline = errors.New("connection refused")

func (g *fakeGateway) log(call, id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, call+" "+id)
}

func (g *fakeGateway) Pay(_ context.Context, r PayRequest) (PayResult, error) {
	g.log("pay", r.PartnerTransID)
	g.mu.Lock()
	g.codes = append(g.codes, r.BuyerCode)
	f := g.pay
	g.mu.Unlock()
	if f == nil {
		return PayResult{}, errOffline
	}
	return f(r)
}

func (g *fakeGateway) Query(_ context.Context, id string) (QueryResult, error) {
	g.log("query", id)
	g.mu.Lock()
	f := g.query
	g.mu.Unlock()
	if f == nil {
		return QueryResult{}, errOffline
	}
	return f(id)
}

func (g *fakeGateway) Cancel(_ context.Context, id string) (CancelResult, error) {
	g.log("cancel", id)
	g.mu.Lock()
	f := g.cancel
	g.mu.Unlock()
	if f == nil {
		return CancelResult{}, errOffline
	}
	return f(id)
}

func (g *fakeGateway) Refund(_ context.Context, r RefundRequest) (RefundResult, error) {
	g.log("refund", r.PartnerRefundID)
	g.mu.Lock()
	f := g.refund
	g.mu.Unlock()
	if f == nil {
		return RefundResult{}, errOffline
	}
	return f(r)
}

// count returns how many calls of a kind were made.
func (g *fakeGateway) count(call string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.calls {
		if len(c) > len(call) && c[:len(call)+1] == call+" " {
			n++
		}
	}
	return n
}

func (g *fakeGateway) set(f func(g *fakeGateway)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}

// harness is an engine on a temp journal, a fake clock and a fake gateway,
// driven step by step (no Run goroutine) so every test is deterministic.
type harness struct {
	t    *testing.T
	e    *Engine
	clk  *fakeClock
	gw   *fakeGateway
	path string
	cfg  Config
	// failCommit makes every COMMIT of the journal's writer fail (its
	// commit hook refuses it), as a full disk would.
	failCommit *atomic.Bool
}

func newHarness(t *testing.T, mutate ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clk: &fakeClock{t: testStart}, gw: &fakeGateway{},
		path: filepath.Join(t.TempDir(), "journal.db"), failCommit: &atomic.Bool{}}
	h.cfg = Config{Clock: h.clk, Rand: rand.NewChaCha8([32]byte{1}),
		connectHook: commitFailer(h.failCommit)}
	for _, m := range mutate {
		m(&h.cfg)
	}
	h.open()
	return h
}

func (h *harness) open() {
	h.t.Helper()
	e, err := Open(context.Background(), h.path, h.gw, h.cfg)
	if err != nil {
		h.t.Fatalf("Open: %v", err)
	}
	h.e = e
	h.t.Cleanup(func() { _ = e.Close(context.Background()) })
}

// commitFailer is a writer connect hook whose commit hook turns COMMIT into
// a rollback (SQLite then reports SQLITE_CONSTRAINT_COMMITHOOK) while fail
// is set.
func commitFailer(fail *atomic.Bool) func(*sqlite3.SQLiteConn) error {
	return func(c *sqlite3.SQLiteConn) error {
		c.RegisterCommitHook(func() int {
			if fail.Load() {
				return 1
			}
			return 0
		})
		return nil
	}
}

// restart closes the engine and opens it again on the same journal.
func (h *harness) restart() {
	h.t.Helper()
	h.settle()
	if err := h.e.Close(context.Background()); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
	h.open()
}

// settle runs the scheduler at the current (fake) time until nothing is due
// and no call is in flight.
func (h *harness) settle() {
	h.t.Helper()
	ctx := context.Background()
	for i := 0; ; i++ {
		if i > 1000 {
			h.t.Fatal("engine does not settle")
		}
		h.e.calls.Wait()
		h.e.mu.Lock()
		pending := len(h.e.results)
		h.e.mu.Unlock()
		due, err := dueOps(ctx, h.e.st.r, h.e.clk.now(), 1)
		if err != nil {
			h.t.Fatalf("due: %v", err)
		}
		if len(due) == 0 && pending == 0 {
			return
		}
		if _, err := h.e.cycle(ctx); err != nil {
			h.t.Fatalf("cycle: %v", err)
		}
	}
}

// advance moves the clock by d in steps no longer than step, settling at
// each step.
func (h *harness) advance(d, step time.Duration) {
	h.t.Helper()
	for d > 0 {
		s := min(d, step)
		h.clk.Advance(s)
		d -= s
		h.settle()
	}
}

func (h *harness) sale(ref string, amount int64) Operation {
	h.t.Helper()
	submitted, err := h.e.SubmitSale(context.Background(), Sale{Lane: "1", Ref: ref, Amount: amount,
		Currency: "HKD", Subject: "Tickets", Terminal: "T-01"})
	op := submitted.Op
	if err != nil {
		h.t.Fatalf("SubmitSale: %v", err)
	}
	return op
}

// paidSale submits a sale and pays it at once.
func (h *harness) paidSale(ref string, amount int64) Operation {
	h.t.Helper()
	h.gw.set(func(g *fakeGateway) {
		g.pay = func(r PayRequest) (PayResult, error) {
			return PayResult{Outcome: OutcomeSuccess, RawStatus: "SUCCESS",
				TradeInfo: TradeInfo{AlipayTransID: "2025" + r.PartnerTransID}}, nil
		}
	})
	op := h.sale(ref, amount)
	h.pay(op.ID, "281234567890123400")
	h.settle()
	return h.want(op.ID, StatePaid)
}

func (h *harness) pay(id, code string) Operation {
	h.t.Helper()
	submitted, err := h.e.StartPay(context.Background(), id, code)
	op := submitted.Op
	if err != nil {
		h.t.Fatalf("StartPay: %v", err)
	}
	return op
}

func (h *harness) get(id string) Operation {
	h.t.Helper()
	op, err := h.e.Get(context.Background(), id)
	if err != nil {
		h.t.Fatalf("Get: %v", err)
	}
	return op
}

// want checks id is in state s and returns it.
func (h *harness) want(id string, s State) Operation {
	h.t.Helper()
	op := h.get(id)
	if op.State != s {
		h.t.Fatalf("operation %s (%s) is %s, want %s (reason %q)", id, op.Kind, op.State, s, op.Reason)
	}
	return op
}

// names returns the event names of an operation.
func (h *harness) names(id string) []EventName {
	h.t.Helper()
	evs, err := h.e.Events(context.Background(), id)
	if err != nil {
		h.t.Fatalf("Events: %v", err)
	}
	out := make([]EventName, len(evs))
	for i, ev := range evs {
		out[i] = ev.Name
	}
	return out
}

func (h *harness) events(id string) []Event {
	h.t.Helper()
	evs, err := h.e.Events(context.Background(), id)
	if err != nil {
		h.t.Fatalf("Events: %v", err)
	}
	return evs
}

// answers used by many tests
func payUnknow(PayRequest) (PayResult, error) {
	return PayResult{Outcome: OutcomeUnknown, RawStatus: "UNKNOW"}, nil
}

func queryStatus(s TradeStatus) func(string) (QueryResult, error) {
	return func(id string) (QueryResult, error) {
		return QueryResult{Outcome: OutcomeSuccess, Status: s, RawStatus: s.String(),
			TradeInfo: TradeInfo{AlipayTransID: "2025" + id}}, nil
	}
}

func cancelOK(string) (CancelResult, error) {
	return CancelResult{Outcome: OutcomeSuccess, RawStatus: "SUCCESS", Action: "close"}, nil
}

func refundOK(RefundRequest) (RefundResult, error) {
	return RefundResult{Outcome: OutcomeSuccess, RawStatus: "SUCCESS"}, nil
}

// asErr is errors.As for tests.
func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
