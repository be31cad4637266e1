package daemon

// A sale, top to bottom in the order it happens:
//
//	SALE request (serveSale) → attach to the running sale or submit to the
//	journal (startSale) → the runner (run): wait for the code (awaitCode) →
//	pay sent (pay) → outcome (settle) → RESULT decided (decide) → receipt
//	and RESULT (complete) — streamed to every attached connection (stream).
//
// The runner follows its operation through the journal's Watch (opWatch,
// watch.go); the journal is the truth, the sale keeps no money state of
// its own. The sale's message log (EVENTs, then the RESULT) is in
// sale_log.go.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// saleReq is what a SALE asks for; subject already defaulted.
type saleReq struct {
	ref, currency, subject, barcode string
	amount                          int64
}

func saleReqOf(m *ecrproto.Message, defaultSubject string) saleReq {
	r := saleReq{ref: m.Ref, currency: m.Currency, subject: m.Subject, barcode: devices.CleanCode(m.Barcode)}
	if m.Amount != nil {
		r.amount = *m.Amount
	}
	if r.subject == "" {
		r.subject = defaultSubject
	}
	return r
}

// conflict names the first field in which o differs from r, or "". A
// barcode differs only when both carry one.
func (r saleReq) conflict(o saleReq) string {
	switch {
	case r.amount != o.amount:
		return "amount"
	case r.currency != o.currency:
		return "currency"
	case r.subject != o.subject:
		return "subject"
	case r.barcode != "" && o.barcode != "" && r.barcode != o.barcode:
		return "barcode"
	}
	return ""
}

// sale is one sale in flight on a lane. Its runner goroutine drives it
// from the code wait to the final RESULT, independently of any ECR
// connection; connections attach to it and stream its messages.
type sale struct {
	d    *Daemon
	l    *lane
	req  saleReq
	id   string      // operation id
	code chan string // the buyer code, once

	started time.Time // when the runner started: the scan bound counts from here
	sentAt  time.Time // when the pay was sent (or found sent): the pay bound counts from here

	// decideMu orders the runner's decision of the outcome against the
	// journal cancels of ABORT and CANCEL: a cancel committed before the
	// decision is seen by it (the RESULT reports the cancel); once the
	// outcome is decided, ABORT is refused and CANCEL waits until the
	// RESULT is out, so the ECR never hears APPROVED after a reversal.
	decideMu sync.Mutex

	mu      sync.Mutex
	decided *queue.Operation    // the outcome the RESULT reports; nil until decided
	msgs    []*ecrproto.Message // EVENTs, then the final RESULT
	changed chan struct{}       // closed and replaced at every message
	final   bool
	waiting bool            // waiting for the buyer code
	sent    map[string]bool // EVENTs sent once
}

func newSale(d *Daemon, l *lane, r saleReq, id string) *sale {
	now := time.Now()
	return &sale{d: d, l: l, req: r, id: id, code: make(chan string, 1), started: now, sentAt: now,
		changed: make(chan struct{}), sent: map[string]bool{}}
}

// serveSale starts a sale or attaches to the running one with that ref,
// and streams its EVENTs and RESULT.
func (d *Daemon) serveSale(ctx context.Context, l *lane, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	r := saleReqOf(req, d.cfg.Payment.Subject)
	if r.barcode != "" && !devices.IsAlipayCode(r.barcode) {
		d.sendErr(w, ecrproto.FieldError("barcode", "not an Alipay payment code (16-24 digits starting 25-30)"))
		return
	}
	if res, old, ok := l.unsentResult(r.ref); ok && l.current() == nil {
		if f := old.conflict(r); f != "" {
			d.sendErr(w, refConflict(f))
			return
		}
		send(w, res) // a repeat of a sale answered "not sent" the journal has not voided yet
		return
	}
	s, op, attach, err := l.startSale(r)
	switch {
	case err != nil:
		d.sendErr(w, err)
	case s == nil:
		send(w, d.opResult(d.work, op))
	case attach:
		d.stream(ctx, s, w, s.attachIndex())
	default:
		d.stream(ctx, s, w, 0)
	}
}

// startSale returns the lane's sale for r: the running one (attach), a new
// one, or — for a ref whose sale is already final — nil and its operation.
func (l *lane) startSale(r saleReq) (*sale, queue.Operation, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tap != nil {
		return nil, queue.Operation{}, false, ecrproto.Errorf(ecrproto.CodeLaneBusy, "lane %s is running a scan test", l.cfg.ID)
	}
	if cur := l.cur; cur != nil {
		return l.attach(cur, r)
	}
	if l.d.isStopping() {
		return nil, queue.Operation{}, false, ecrproto.Errorf(ecrproto.CodeUnavailable, "tillbridge is stopping; try again shortly")
	}
	sub, err := l.submit(r)
	if err != nil || sub.Op.Final() {
		return nil, sub.Op, false, err
	}
	s := newSale(l.d, l, r, sub.Op.ID)
	l.cur = s
	l.d.bg.Add(1)
	go func() {
		defer l.d.bg.Done()
		s.run(sub)
	}()
	return s, sub.Op, sub.Op.State != queue.StateWaitingScan, nil
}

// attach returns the running sale cur for a repeated SALE r of the same
// ref with the same fields; anything else is refused. Caller holds l.mu.
func (l *lane) attach(cur *sale, r saleReq) (*sale, queue.Operation, bool, error) {
	if cur.req.ref != r.ref {
		return nil, queue.Operation{}, false, ecrproto.Errorf(ecrproto.CodeLaneBusy,
			"lane %s has sale %s in flight", l.cfg.ID, cur.req.ref)
	}
	if f := cur.req.conflict(r); f != "" {
		return nil, queue.Operation{}, false, refConflict(f)
	}
	if r.barcode != "" && cur.req.barcode == "" {
		cur.deliver(r.barcode) // the repeat brings the code: same as a SCAN
	}
	return cur, queue.Operation{}, true, nil
}

// submit records the sale in the journal (with its code: the pay is
// committed in the same transaction and sent at once, Sent). A repeat
// returns the recorded operation. Caller holds l.mu.
func (l *lane) submit(r saleReq) (queue.Submitted, error) {
	sub, err := l.d.eng.SubmitSale(l.d.work, queue.Sale{Lane: l.cfg.ID, Ref: r.ref, Amount: r.amount,
		Currency: r.currency, Subject: r.subject, Terminal: l.cfg.TerminalID, BuyerCode: r.barcode})
	var state *queue.StateError
	if errors.As(err, &state) { // a code for a recorded sale that ended: its outcome
		if cur, gerr := l.d.eng.GetByRef(l.d.work, l.cfg.ID, queue.KindSale, r.ref); gerr == nil && cur.Final() {
			sub, err = queue.Submitted{Op: cur}, nil
		}
	}
	if err != nil {
		return sub, journalErr(err)
	}
	if r.barcode != "" && sub.Op.BuyerMasked != "" && sub.Op.BuyerMasked != queue.MaskCode(r.barcode) {
		return sub, refConflict("barcode")
	}
	l.lastRef = r.ref
	return sub, nil
}

// run drives the sale from its submit to its RESULT, whatever happens to
// the connections attached to it: the code wait and the pay (unless the
// SALE carried the code and submit sent the pay), the outcome, the
// receipt, the RESULT.
func (s *sale) run(sub queue.Submitted) {
	ctx, cancel := context.WithCancel(s.d.work)
	defer cancel()
	w := s.d.watchOp(ctx, sub.Op) // the state as it is now: nothing before it is missed
	if sub.Sent {
		s.paySent()
	}
	if w.op.State == queue.StateWaitingScan {
		if res := s.pay(w); res != nil {
			s.l.finish(s)
			s.emit(res)
			s.voidUnsent()
			return
		}
	}
	s.complete(s.settle(w))
}

// pay gets the buyer code and starts the pay; w then holds the operation
// as it stands (voided if the wait was cancelled or timed out). When the
// sale ends here with nothing sent but the journal could not record that,
// it returns the RESULT to answer at once (see notSent).
func (s *sale) pay(w *opWatch) *ecrproto.Message {
	code := s.req.barcode
	if code == "" {
		var ok bool
		if code, ok = s.awaitCode(w); !ok {
			if w.op.State == queue.StateWaitingScan && !s.d.isStopping() {
				return s.notSent(w.op, ReasonVoided, "no payment code in time; nothing was charged")
			}
			return nil
		}
	}
	res, err := s.d.eng.StartPay(s.d.work, s.id, code)
	if err != nil {
		s.l.log.Info().Err(err).Str("ref", s.req.ref).Msg("pay not started")
		cur, gerr := s.d.eng.Get(s.d.work, s.id)
		if gerr == nil && cur.State != queue.StateWaitingScan {
			w.reset(cur) // voided meanwhile (ABORT, CANCEL, scan timeout), or already paying
			return nil
		}
		var state *queue.StateError
		if s.d.isStopping() || errors.As(err, &state) {
			return nil // PENDING STOPPING; the journal voids it after the restart
		}
		// StartPay launches the request only after its commit: an error
		// means nothing left for Alipay.
		s.l.log.Error().Err(err).Str("ref", s.req.ref).Msg("journal write failed; the pay was not sent")
		return s.notSent(w.op, ReasonJournalError,
			"the payment could not be recorded, so it was not sent; nothing was charged; try again with a new ref")
	}
	w.reset(res.Op)
	if res.Sent {
		s.paySent()
	}
	return nil
}

// awaitCode arms the lane's gate and waits for the code from the lane's
// scanner or a SCAN message; it gives up when the operation leaves
// waiting_scan (ABORT, CANCEL, scan timeout), the daemon stops, or — if
// the journal never voids it — the scan timeout plus boundGrace passed.
func (s *sale) awaitCode(w *opWatch) (string, bool) {
	s.setWaiting(true)
	defer s.setWaiting(false)
	s.l.gate.Arm(time.Now())
	defer s.l.gate.Disarm()
	s.event(ecrproto.EventWaitScan, "waiting for the customer's payment code", true)
	bound := time.NewTimer(time.Until(s.started.Add(s.d.cfg.Payment.ScanTimeout + boundGrace)))
	defer bound.Stop()
	for w.op.State == queue.StateWaitingScan {
		select {
		case code := <-s.code:
			s.emit(&ecrproto.Message{Type: ecrproto.TypeEvent, Event: ecrproto.EventScanned,
				Buyer: devices.MaskCode(code), Message: "payment code read"})
			return code, true
		case u, ok := <-w.c:
			w.take(u, ok)
		case <-bound.C:
			s.voidNow(w)
			return "", false
		case <-s.d.stopping:
			return "", false
		}
	}
	return "", false
}

// voidNow voids a sale the journal did not void at its scan timeout; w
// stays waiting_scan if the journal fails.
func (s *sale) voidNow(w *opWatch) {
	s.setWaiting(false) // no code may start the pay any more
	cur, err := s.d.eng.Cancel(s.d.work, s.id)
	if err != nil {
		s.l.log.Warn().Err(err).Str("ref", s.req.ref).Msg("scan timeout: the journal did not void the sale")
		return
	}
	w.reset(cur)
}

// paySent notes that this sale's pay left (EVENT SENT): the pay bound
// counts from here.
func (s *sale) paySent() {
	s.sentAt = time.Now()
	s.event(ecrproto.EventSent, "payment sent to Alipay", true)
}

// notSent is the DECLINED RESULT of a sale that ends before its pay was
// sent although the journal could not record it (its operation still
// waits for a code). The lane answers it to repeats and STATUS until the
// runner has voided the operation (voidUnsent).
func (s *sale) notSent(op queue.Operation, reason, msg string) *ecrproto.Message {
	res := resultOf(op, "", false)
	res.Status, res.Reason, res.Message = ecrproto.StatusDeclined, reason, msg
	s.l.rememberUnsent(s.req, res)
	return res
}

// voidRetry is how often voidUnsent tries the void again while the
// journal cannot write.
const voidRetry = 2 * time.Second

// voidUnsent records in the journal that the sale whose RESULT said
// "nothing was sent" is over: it retries the void every voidRetry until it
// is committed, the operation left waiting_scan, the daemon stops, or a
// scan timeout passed (the journal's own scan timeout then voids it).
func (s *sale) voidUnsent() {
	defer s.l.forgetUnsent(s.req.ref)
	limit := time.NewTimer(s.d.cfg.Payment.ScanTimeout)
	defer limit.Stop()
	retry := time.NewTicker(voidRetry)
	defer retry.Stop()
	for {
		cur, err := s.d.eng.Cancel(s.d.work, s.id)
		if err == nil || cur.State != "" && cur.State != queue.StateWaitingScan {
			return
		}
		select {
		case <-retry.C:
		case <-limit.C:
			s.l.log.Warn().Err(err).Str("ref", s.req.ref).Msg("sale not voided in the journal; its scan timeout will")
			return
		case <-s.d.stopping:
			return
		}
	}
}

// boundGrace is how long past a deadline of the journal (scan timeout,
// pay deadline plus cancel wait) a sale runner waits for the journal to
// act before it acts itself: no runner waits without a bound.
const boundGrace = 5 * time.Second

// settle follows the operation until its outcome is known — final, or a
// cancel the journal owns for longer than the cancel wait — and decides
// it. It returns early, undecided, when the daemon stops or the sale's
// bound passes with nothing settled even after the runner took the
// cancel on itself.
func (s *sale) settle(w *opWatch) queue.Operation {
	tookCancel := false
	for {
		if !w.op.Final() && !s.d.isStopping() {
			s.d.follow(w, s.d.saleBound(s, w.op), s.announce)
		}
		op := w.op
		if !settled(op) {
			if s.d.isStopping() || tookCancel {
				return op
			}
			// The bound passed and the journal did not act (a failing
			// disk, a stuck scheduler): take the cancel on as the journal
			// would have at the pay deadline, once.
			tookCancel = true
			s.decideMu.Lock()
			cur, err := s.d.eng.Cancel(s.d.work, s.id)
			s.decideMu.Unlock()
			if err != nil {
				s.l.log.Error().Err(err).Str("ref", s.req.ref).Msg("sale not settled within its bound; cancel not recorded")
				return op
			}
			w.reset(cur)
			continue
		}
		if s.decide(w, op) {
			return op
		}
	}
}

// saleBound is how much longer the runner follows op before it stops
// waiting for the journal: the pay deadline plus the cancel wait from when
// the pay was sent, plus boundGrace.
func (d *Daemon) saleBound(s *sale, op queue.Operation) time.Duration {
	p := d.cfg.Payment
	end := s.sentAt.Add(p.PayDeadline + p.CancelWait + boundGrace)
	if cancelOwned(op) {
		end = time.Now().Add(p.CancelWait + boundGrace) // follow answers at the cancel wait
	}
	return max(time.Until(end), time.Millisecond)
}

// settled reports whether op's outcome can be told to the ECR: a final
// state, or a cancel the journal owns (CANCELLED, CANCEL_QUEUED).
func settled(op queue.Operation) bool { return op.Final() || cancelOwned(op) }

// announce turns what the journal says about the sale into ECR EVENTs,
// each once: the buyer must confirm; the cancel is taken on (also when
// the sale is found already cancelled: the ECR hears the stage it missed).
func (s *sale) announce(u queue.Update) {
	switch {
	case u.Event == queue.EventWaitBuyerConfirm:
		s.event(ecrproto.EventWaitBuyerConfirm, "the customer must confirm the payment on the phone", true)
	case cancelOwned(u.Op) || u.Op.State == queue.StateCancelled:
		s.event(ecrproto.EventCancelling, "cancelling the payment", true)
	}
}

// decide fixes op as the sale's outcome unless a cancel changed the
// operation since it was read (under decideMu, so no ABORT or CANCEL
// slips between): then w follows the change and decide reports false.
func (s *sale) decide(w *opWatch, op queue.Operation) bool {
	s.decideMu.Lock()
	defer s.decideMu.Unlock()
	if cur, err := s.d.eng.Get(s.d.work, s.id); err == nil && cur.State != op.State {
		w.reset(cur)
		return false
	}
	s.announce(queue.Update{Op: op, Event: w.ev})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decided = &op
	return true
}

// decision returns the decided outcome, if the runner decided it.
func (s *sale) decision() (queue.Operation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decided == nil {
		return queue.Operation{}, false
	}
	return *s.decided, true
}

// complete prints the receipt and sends the RESULT of the decided
// outcome; a sale the daemon stopped in the middle of, or one the journal
// could not settle within its bound, answers PENDING (the journal keeps
// it).
func (s *sale) complete(op queue.Operation) {
	decided, ok := s.decision()
	if !ok {
		s.l.finish(s)
		if s.d.isStopping() {
			s.emit(pendingResult(op, ReasonStopping, "tillbridge is stopping; the sale is kept; ask STATUS with the same ref"))
			return
		}
		s.emit(pendingResult(op, ReasonInProgress, "the journal has not settled the sale in time; it is kept; ask STATUS with the same ref"))
		return
	}
	res := resultOf(decided, "", cancelOwned(decided))
	s.d.printOutcome(s.l, decided, "", res, s.event)
	s.l.finish(s)
	s.emit(res)
}

// pendingResult is a PENDING RESULT for op with a reason.
func pendingResult(op queue.Operation, reason, msg string) *ecrproto.Message {
	m := resultOf(op, "", false)
	m.Status, m.Reason, m.Message = ecrproto.StatusPending, reason, msg
	m.Receipt = ""
	return m
}

// printOutcome fills res's receipt text and prints the receipt or slip on
// the lane's printer (EVENT PRINTING, and PRINTER_ERROR on a problem). A
// printer problem never changes the payment result.
func (d *Daemon) printOutcome(l *lane, op queue.Operation, saleRef string, res *ecrproto.Message, event func(name, msg string, once bool)) {
	r, ok := d.receiptFor(op, saleRef, false)
	if !ok {
		return
	}
	job := l.renderReceipt(r)
	res.Receipt = jobText(job, l.profile()) // exactly what prints
	if l.printer == nil {
		return
	}
	event(ecrproto.EventPrinting, "printing the receipt", true)
	l.remember(r.Ref, job)
	if problem := l.printJob(job); problem != "" {
		event(ecrproto.EventPrinterError, "receipt not printed: printer "+l.printer.Name()+": "+problem, true)
		res.Message += "; receipt not printed (" + problem + ")"
	}
	if op.State == queue.StatePaid && op.Kind == queue.KindSale && d.cfg.Printers[l.cfg.Printer].Drawer {
		l.kickDrawer()
	}
}

// stream sends s's messages from index i until the final one, the
// connection breaks or closes (ctx; the sale goes on), or the daemon stops
// (PENDING).
func (d *Daemon) stream(ctx context.Context, s *sale, w ecrproto.ResponseWriter, i int) {
	for {
		msgs, changed, final := s.since(i)
		for _, m := range msgs {
			if err := w.Send(m); err != nil {
				return
			}
			i++
		}
		if final {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		case <-d.stopping:
			if msgs, _, final := s.since(i); final {
				send(w, msgs[len(msgs)-1])
				return
			}
			send(w, pendingResult(s.lastOp(), ReasonStopping,
				"tillbridge is stopping; the sale is kept; ask STATUS with the same ref"))
			return
		}
	}
}

// lastOp reads the sale's operation (for a PENDING answer).
func (s *sale) lastOp() queue.Operation {
	op, err := s.d.eng.Get(context.WithoutCancel(s.d.work), s.id)
	if err != nil {
		return queue.Operation{Lane: s.l.cfg.ID, Ref: s.req.ref, Amount: s.req.amount, Currency: s.req.currency}
	}
	return op
}
