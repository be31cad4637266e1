package queue

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// modelTrade is a trade at the model gateway.
type modelTrade struct {
	amount    int64
	created   time.Time
	confirmAt time.Time // zero: paid at once; far future: never
	closedAt  time.Time // cancelled or auto-closed
	refunds   map[string]int64
	pays      int
}

func (m *modelTrade) refunded() (sum int64) {
	for _, a := range m.refunds {
		sum += a
	}
	return sum
}

// status is the trade's state at t.
func (m *modelTrade) status(t time.Time) TradeStatus {
	if !m.closedAt.IsZero() { // cancelled: closed, or paid and refunded by the cancel
		return TradeClosed
	}
	if !m.confirmAt.IsZero() && t.Before(m.confirmAt) {
		if t.Sub(m.created) >= 3*time.Minute {
			return TradeClosed
		}
		return TradeWaitBuyerPay
	}
	if m.refunded() >= m.amount {
		return TradeClosed
	}
	return TradeSuccess
}

// modelGateway is a small Alipay with random faults: a call may be dropped
// before it takes effect, or its answer lost after.
type modelGateway struct {
	mu     sync.Mutex
	seed   uint64
	calls  map[string]uint64 // per call kind and id: decisions do not depend on scheduling
	now    func() time.Time
	faulty bool
	trades map[string]*modelTrade
}

var errLost = errors.New("connection reset")

// rnd returns the random source of the next call of kind for id.
func (g *modelGateway) rnd(kind, id string) *rand.Rand {
	k := kind + " " + id
	g.calls[k]++
	h := fnv.New64a()
	fmt.Fprint(h, k, g.calls[k])
	return rand.New(rand.NewPCG(g.seed, h.Sum64()))
}

// fault decides the fate of one call: dropped before, lost after, or fine.
func (g *modelGateway) fault(rnd *rand.Rand) (drop, lose bool) {
	if !g.faulty {
		return false, false
	}
	switch rnd.IntN(6) {
	case 0:
		return true, false
	case 1:
		return false, true
	}
	return false, false
}

func (g *modelGateway) Pay(_ context.Context, r PayRequest) (PayResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rnd := g.rnd("pay", r.PartnerTransID)
	drop, lose := g.fault(rnd)
	if drop {
		return PayResult{}, errLost
	}
	now := g.now()
	tr := &modelTrade{amount: r.Amount, created: now, refunds: map[string]int64{}}
	res := PayResult{Outcome: OutcomeSuccess, RawStatus: "SUCCESS"}
	switch rnd.IntN(5) {
	case 0: // declined: no trade
		return PayResult{Outcome: OutcomeDeclined, Code: "BUYER_BALANCE_NOT_ENOUGH"}, nil
	case 1:
		tr.confirmAt = now.Add(time.Duration(rnd.IntN(30)) * time.Second)
		res = PayResult{RawStatus: "UNKNOW"}
	case 2:
		tr.confirmAt = now.Add(1000 * time.Hour) // never
		res = PayResult{RawStatus: "UNKNOW"}
	}
	tr.pays++
	if old, ok := g.trades[r.PartnerTransID]; ok {
		old.pays++
		return PayResult{}, errors.New("model: second pay")
	}
	g.trades[r.PartnerTransID] = tr
	if lose {
		return PayResult{}, errLost
	}
	return res, nil
}

func (g *modelGateway) Query(_ context.Context, id string) (QueryResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if drop, lose := g.fault(g.rnd("query", id)); drop || lose {
		return QueryResult{}, errLost
	}
	tr, ok := g.trades[id]
	if !ok {
		return QueryResult{Outcome: OutcomeDeclined, Status: TradeNotFound}, nil
	}
	return QueryResult{Outcome: OutcomeSuccess, Status: tr.status(g.now())}, nil
}

func (g *modelGateway) Cancel(_ context.Context, id string) (CancelResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rnd := g.rnd("cancel", id)
	drop, lose := g.fault(rnd)
	if drop {
		return CancelResult{}, errLost
	}
	now := g.now()
	tr, ok := g.trades[id]
	if ok && !now.Before(cancelWindowEnd(tr.created, 15*time.Minute)) {
		return CancelResult{Outcome: OutcomeDeclined, Code: "TRADE_CANCEL_TIME_OUT", RetryFlag: RetryNo}, nil
	}
	if ok && g.faulty && tr.status(now) == TradeSuccess && rnd.IntN(3) == 0 {
		return CancelResult{Outcome: OutcomeDeclined, Code: "REASON_TRADE_BEEN_FREEZEN", RetryFlag: RetryNo}, nil
	}
	if ok && tr.closedAt.IsZero() && tr.refunded() == 0 {
		tr.closedAt = now
	} else if ok && tr.refunded() > 0 && tr.status(now) == TradeSuccess {
		return CancelResult{Outcome: OutcomeDeclined, Code: "TRADE_STATUS_ERROR", RetryFlag: RetryNo}, nil
	}
	if lose {
		return CancelResult{}, errLost
	}
	return CancelResult{Outcome: OutcomeSuccess}, nil
}

func (g *modelGateway) Refund(_ context.Context, r RefundRequest) (RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	drop, lose := g.fault(g.rnd("refund", r.PartnerRefundID))
	if drop {
		return RefundResult{}, errLost
	}
	tr, ok := g.trades[r.PartnerTransID]
	switch {
	case !ok || tr.status(g.now()) != TradeSuccess && tr.refunds[r.PartnerRefundID] == 0:
		return RefundResult{Outcome: OutcomeDeclined, Code: "TRADE_STATUS_ERROR"}, nil
	case tr.refunds[r.PartnerRefundID] == 0 && tr.refunded()+r.Amount > tr.amount:
		return RefundResult{Outcome: OutcomeDeclined, Code: "REFUND_AMT_RESTRICTION"}, nil
	}
	tr.refunds[r.PartnerRefundID] = r.Amount
	if lose {
		return RefundResult{}, errLost
	}
	return RefundResult{Outcome: OutcomeSuccess}, nil
}

// runModel plays one random scenario from seed and checks the invariants.
func runModel(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	gw := &modelGateway{seed: seed, calls: map[string]uint64{}, faulty: true, trades: map[string]*modelTrade{}}
	maxAttempts := []int{0, 0, 3}[rnd.IntN(3)]
	h := newHarness(t, func(c *Config) { c.MaxAttempts = maxAttempts })
	h.gw = nil
	gw.now = h.clk.Now
	h.e.gw = gw
	reopen := func() {
		h.settle()
		_ = h.e.Close(context.Background())
		e, err := Open(context.Background(), h.path, gw, h.cfg)
		if err != nil {
			t.Fatal(err)
		}
		h.e = e
		t.Cleanup(func() { _ = e.Close(context.Background()) })
	}
	if rnd.IntN(4) == 0 { // sometimes near the Beijing cut-off
		h.clk.Set(time.Date(2025, 3, 4, 23, 58, 0, 0, beijing()))
	}
	sent := playModel(t, h, rnd, reopen)
	checkSent(t, h, gw, sent)
	gw.mu.Lock()
	gw.faulty = false
	gw.mu.Unlock()
	h.advance(10*time.Minute, 5*time.Second) // faults over: deadlines, cancels
	h.advance(48*time.Hour, 30*time.Minute)  // past every cancel window

	checkModel(t, h, gw)
}

// playModel submits, pays, cancels, refunds and restarts at random. It
// returns how many calls said they sent the pay (Submitted.Sent), by sale.
func playModel(t *testing.T, h *harness, rnd *rand.Rand, reopen func()) map[string]int {
	ctx := context.Background()
	var sales []Operation
	sent := map[string]int{}
	pick := func() string { return sales[rnd.IntN(len(sales))].ID }
	startPay := func(id string) {
		if res, err := h.e.StartPay(ctx, id, "281234567890123456"); err == nil && res.Sent {
			sent[id]++
		}
	}
	for step := range 60 {
		switch r := rnd.IntN(12); {
		case r < 4 || len(sales) == 0:
			submitted, err := h.e.SubmitSale(ctx, Sale{Lane: "1", Ref: fmt.Sprint("s", step),
				Amount: 100 + int64(rnd.IntN(900)), Currency: "HKD"})
			op := submitted.Op
			if err != nil {
				t.Fatal(err)
			}
			sales = append(sales, op)
			if rnd.IntN(5) > 0 { // usually scanned at once
				startPay(op.ID)
			}
		case r < 6:
			startPay(pick())
		case r < 8:
			_, _ = h.e.Cancel(ctx, pick())
		case r < 11:
			_, _ = h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: fmt.Sprint("f", step),
				SaleID: pick(), Amount: 1 + int64(rnd.IntN(600)), Currency: "HKD"})
		default:
			reopen()
		}
		h.advance(time.Duration(rnd.IntN(8000))*time.Millisecond, time.Second)
	}
	return sent
}

// checkSent: every pay the gateway received was sent by exactly one call
// that said so (Submitted.Sent), at most one per sale, across restarts.
func checkSent(t *testing.T, h *harness, gw *modelGateway, sent map[string]int) {
	t.Helper()
	h.settle() // calls in flight have reached the gateway
	ops, err := h.e.List(context.Background(), Filter{Kind: KindSale, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	gw.mu.Lock()
	defer gw.mu.Unlock()
	for _, op := range ops {
		if n, calls := sent[op.ID], gw.calls["pay "+op.PartnerTransID]; n > 1 || uint64(n) != calls {
			t.Errorf("sale %s: %d calls said they sent the pay, the gateway got %d", op.Ref, n, calls)
		}
	}
}

// checkModel: every operation final (manual with a reason); the journal
// and the model gateway agree on the money; no trade was paid twice.
func checkModel(t *testing.T, h *harness, gw *modelGateway) {
	ops, err := h.e.List(context.Background(), Filter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	refunded, unsure := map[string]int64{}, map[string]int64{} // unsure: manual refunds
	for _, op := range ops {
		if !op.Final() || op.State == StateManual && op.Reason == "" {
			t.Errorf("%s %s left %s (%q)", op.Kind, op.Ref, op.State, op.Reason)
		}
		if op.Kind == KindRefund && op.State == StateRefunded {
			refunded[op.PartnerTransID] += op.Amount
		}
		if op.Kind == KindRefund && op.State == StateManual {
			unsure[op.PartnerTransID] += op.Amount
		}
	}
	counts, _ := h.e.Counts(context.Background())
	t.Logf("final states %v, %d trades", counts, len(gw.trades))
	now := h.clk.Now()
	for _, op := range ops {
		if op.Kind != KindSale {
			continue
		}
		tr := gw.trades[op.PartnerTransID]
		if tr == nil {
			if op.State == StatePaid {
				t.Errorf("sale %s paid in the journal, no trade", op.Ref)
			}
			continue
		}
		if tr.pays > 1 {
			t.Errorf("sale %s paid %d times", op.Ref, tr.pays)
		}
		if r, j := tr.refunded(), refunded[op.PartnerTransID]; (r < j || r > j+unsure[op.PartnerTransID]) &&
			op.State != StateManual {
			t.Errorf("sale %s: gateway refunded %d (%v), journal %d", op.Ref, tr.refunded(), tr.refunds,
				refunded[op.PartnerTransID])
			dumpOp(t, h, op)
		}
		st := tr.status(now)
		switch {
		case op.State == StateManual:
		case st == TradeSuccess && op.State != StatePaid:
			t.Errorf("sale %s: money taken, journal says %s (%s)", op.Ref, op.State, op.Reason)
		case op.State == StatePaid && st != TradeSuccess && tr.refunded() < tr.amount:
			t.Errorf("sale %s: journal paid, gateway %s", op.Ref, st)
		}
	}
}

func TestLifecycleProperty(t *testing.T) {
	n := 20
	if testing.Short() {
		n = 3
	}
	if v, err := strconv.Atoi(os.Getenv("TILLBRIDGE_PROPERTY_SEEDS")); err == nil {
		n = v // e.g. 2000 for a long run
	}
	for seed := range uint64(n) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, seed) })
	}
}

func FuzzLifecycle(f *testing.F) {
	for _, s := range []uint64{1, 42, 1 << 40} {
		f.Add(binary.LittleEndian.AppendUint64(nil, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var buf [8]byte
		copy(buf[:], b)
		runModel(t, binary.LittleEndian.Uint64(buf[:]))
	})
}

// dumpOp logs a sale's events and its refunds' for a failing seed.
func dumpOp(t *testing.T, h *harness, op Operation) {
	refunds, _ := h.e.Refunds(context.Background(), op.ID)
	for _, o := range append([]Operation{op}, refunds...) {
		t.Logf("%s %s %s %s %q", o.Kind, o.Ref, o.State, o.PartnerRefundID, o.Reason)
		for _, ev := range h.events(o.ID) {
			t.Logf("   %s %s %s %s→%s %s %s %q", ev.At.Format("15:04:05.000"), ev.Name, ev.Call,
				ev.From, ev.To, ev.Code, ev.RawStatus, ev.Detail)
		}
	}
}
