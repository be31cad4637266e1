package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// driver runs the lanes: Lanes × Sales sales through the ECR protocol.
type driver struct {
	cfg     *Config
	addr    string
	tag     string // unique per run: refs and subjects carry it
	stats   *Stats
	rec     *recorder
	stopNew <-chan struct{} // closed: start no new sale
	extra   sync.WaitGroup  // mid-flight cancels
}

// saleSpec is one sale the driver makes.
type saleSpec struct {
	lane, ref, currency, code, scenario string
	amount                              int64
}

func (s saleSpec) message(tag string) *ecrproto.Message {
	return &ecrproto.Message{Type: ecrproto.TypeSale, Lane: s.lane, Ref: s.ref, Amount: ecrproto.Int(s.amount),
		Currency: s.currency, Subject: Subject(tag, s.lane, s.ref), Barcode: s.code}
}

// slowScenario reports whether a scenario keeps the sale open long enough
// for a mid-flight CANCEL.
func slowScenario(sc string) bool {
	switch sc {
	case "10", "11", "12", "33", "34", "35":
		return true
	}
	return false
}

// runLanes runs every lane to its last sale (or until stopNew), and waits
// for the mid-flight cancels.
func (d *driver) runLanes(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 1; i <= d.cfg.Lanes; i++ {
		w := &laneWorker{d: d, lane: strconv.Itoa(i), rng: rand.New(rand.NewPCG(d.cfg.Seed, uint64(i)))}
		w.cl = &client{addr: d.addr, framed: d.cfg.FramedRate, rng: w.rng, stats: d.stats}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	wg.Wait()
	d.extra.Wait()
}

// laneWorker is one till's ECR: its sales, one at a time.
type laneWorker struct {
	d    *driver
	lane string
	rng  *rand.Rand
	cl   *client
}

func (w *laneWorker) run(ctx context.Context) {
	defer w.cl.close()
	for i := 0; w.d.cfg.Sales == 0 || i < w.d.cfg.Sales; i++ {
		select {
		case <-w.d.stopNew:
			return
		case <-ctx.Done():
			return
		default:
		}
		w.oneSale(ctx, i)
	}
}

// newSale draws a sale's scenario, currency and amount.
func (w *laneWorker) newSale(i int) saleSpec {
	sc := w.d.cfg.Mix.Pick(w.rng)
	cur := w.d.cfg.Currencies[w.rng.IntN(len(w.d.cfg.Currencies))]
	amount := 100 + w.rng.Int64N(50000) // minor units: 1.00–500.99, or 100–50099 yen
	return saleSpec{lane: w.lane, ref: fmt.Sprintf("%s-%d", w.d.tag, i), currency: cur,
		code: BuyerCode(w.rng, sc), scenario: sc, amount: amount}
}

// oneSale makes a sale and, at the configured rates, cancels or refunds it.
func (w *laneWorker) oneSale(ctx context.Context, i int) {
	s := w.newSale(i)
	d := w.d
	d.rec.add(Told{Kind: "sale", Lane: s.lane, Ref: s.ref, Amount: s.amount, Currency: s.currency, Scenario: s.scenario})
	cancel := w.rng.Float64() < d.cfg.CancelRate
	if cancel && slowScenario(s.scenario) {
		d.cancelMidFlight(ctx, s, w.rng.Uint64(), time.Duration(100+w.rng.IntN(900))*time.Millisecond)
		cancel = false
	}
	d.stats.InFlight.Add(1)
	start := time.Now()
	x := exchange{req: s.message(d.tag), recover: statusMsg(s.lane, s.ref), poll: statusMsg(s.lane, s.ref),
		timeout: d.cfg.requestTimeout(), bound: d.cfg.exchangeBound(), drop: w.drop()}
	out := x.run(ctx, w.cl, d.heard("sale", s.lane, s.ref))
	d.stats.InFlight.Add(-1)
	d.stats.Done.Add(1)
	if !d.settled(out, "SALE", s.lane, s.ref) {
		return
	}
	d.rec.latencyOf(Class(s.scenario), time.Since(start))
	if out.res.Status != ecrproto.StatusApproved {
		d.stats.NotPaid.Add(1)
		return
	}
	switch {
	case cancel:
		w.cancel(ctx, s)
	case w.rng.Float64() < d.cfg.RefundRate:
		w.refund(ctx, s)
	}
}

// drop draws whether this request's connection drops under it.
func (w *laneWorker) drop() bool {
	return w.d.cfg.Chaos.Drops && w.rng.Float64() < w.d.cfg.DropRate
}

// heard returns the exchange callback that records a final status.
func (d *driver) heard(kind, lane, ref string) func(*ecrproto.Message) {
	return func(m *ecrproto.Message) { d.rec.heard(kind, lane, ref, m.Status) }
}

// settled reports whether an exchange ended in a RESULT; an ERROR is
// recorded as unexpected, an expiry is left to the closing STATUS.
func (d *driver) settled(out outcome, what, lane, ref string) bool {
	if out.res == nil {
		return false
	}
	if out.res.Type == ecrproto.TypeError {
		d.stats.Errors.Add(1)
		d.rec.unexpected("lane %s %s %s: %s %s", lane, what, ref, out.res.Code, out.res.Message)
		return false
	}
	return true
}

func statusMsg(lane, ref string) *ecrproto.Message {
	return &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: lane, Ref: ref}
}

// cancel reverses an approved sale; a repeated CANCEL is harmless, so it
// is also the recovery.
func (w *laneWorker) cancel(ctx context.Context, s saleSpec) {
	w.d.stats.Cancels.Add(1)
	req := &ecrproto.Message{Type: ecrproto.TypeCancel, Lane: s.lane, Ref: s.ref}
	x := exchange{req: req, poll: statusMsg(s.lane, s.ref), timeout: w.d.cfg.requestTimeout(),
		bound: w.d.cfg.exchangeBound(), drop: w.drop()}
	w.d.settled(x.run(ctx, w.cl, w.d.heard("sale", s.lane, s.ref)), "CANCEL", s.lane, s.ref)
}

// refund refunds an approved sale in full or in part, under its own
// refund_ref (the sale's ref + "R").
func (w *laneWorker) refund(ctx context.Context, s saleSpec) {
	d := w.d
	d.stats.Refunds.Add(1)
	amount := s.amount
	if w.rng.IntN(2) == 0 {
		amount = 1 + w.rng.Int64N(s.amount)
	}
	rr := s.ref + "R"
	d.rec.add(Told{Kind: "refund", Lane: s.lane, Ref: rr, SaleRef: s.ref, Amount: amount, Currency: s.currency, Scenario: s.scenario})
	req := &ecrproto.Message{Type: ecrproto.TypeRefund, Lane: s.lane, Ref: s.ref, RefundRef: rr,
		Amount: ecrproto.Int(amount), Currency: s.currency}
	x := exchange{req: req, recover: statusMsg(s.lane, rr), poll: statusMsg(s.lane, rr),
		timeout: d.cfg.requestTimeout(), bound: d.cfg.exchangeBound(), drop: w.drop()}
	d.settled(x.run(ctx, w.cl, d.heard("refund", s.lane, rr)), "REFUND", s.lane, rr)
}

// cancelMidFlight sends a CANCEL for s from a second connection after
// delay, while the sale is still open. E_NOT_FOUND (the SALE had not got
// in yet) ends it quietly.
func (d *driver) cancelMidFlight(ctx context.Context, s saleSpec, seed uint64, delay time.Duration) {
	d.stats.Cancels.Add(1)
	d.extra.Add(1)
	go func() {
		defer d.extra.Done()
		if sleep(ctx, delay) != nil {
			return
		}
		cl := &client{addr: d.addr, framed: d.cfg.FramedRate, rng: rand.New(rand.NewPCG(seed, 0)), stats: d.stats}
		defer cl.close()
		req := &ecrproto.Message{Type: ecrproto.TypeCancel, Lane: s.lane, Ref: s.ref}
		x := exchange{req: req, poll: statusMsg(s.lane, s.ref), timeout: d.cfg.requestTimeout(), bound: d.cfg.exchangeBound()}
		out := x.run(ctx, cl, d.heard("sale", s.lane, s.ref))
		if out.res != nil && out.res.Type == ecrproto.TypeError && out.res.Code == ecrproto.CodeNotFound {
			return
		}
		d.settled(out, "CANCEL", s.lane, s.ref)
	}()
}
