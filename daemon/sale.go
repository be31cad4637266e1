package daemon

import (
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
	sent    map[string]bool // journal-driven EVENTs already sent
}

func newSale(d *Daemon, l *lane, r saleReq, id string) *sale {
	now := time.Now()
	return &sale{d: d, l: l, req: r, id: id, code: make(chan string, 1), started: now, sentAt: now,
		changed: make(chan struct{}), sent: map[string]bool{}}
}

// emit appends a message for every attached connection.
func (s *sale) emit(m *ecrproto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final {
		return
	}
	s.msgs = append(s.msgs, m)
	s.final = m.IsFinal()
	close(s.changed)
	s.changed = make(chan struct{})
}

// event emits an EVENT; once only when once is set.
func (s *sale) event(name, msg string, once bool) {
	s.mu.Lock()
	if once && s.sent[name] {
		s.mu.Unlock()
		return
	}
	s.sent[name] = true
	s.mu.Unlock()
	s.emit(&ecrproto.Message{Type: ecrproto.TypeEvent, Event: name, Message: msg})
}

// since returns the messages from index i, a channel closed at the next
// one, and whether the final message is among those returned.
func (s *sale) since(i int) ([]*ecrproto.Message, <-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i > len(s.msgs) {
		i = len(s.msgs)
	}
	return s.msgs[i:], s.changed, s.final
}

// attachIndex is where a connection attaching late starts: at the latest
// message, so it learns the current stage (or the RESULT) at once.
func (s *sale) attachIndex() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(len(s.msgs)-1, 0)
}

// deliver hands the buyer code to the sale if it is waiting for one.
func (s *sale) deliver(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.waiting {
		return false
	}
	select {
	case s.code <- code:
		s.waiting = false
		return true
	default:
		return false
	}
}

func (s *sale) setWaiting(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting = v
}

// run drives the sale: the code wait (unless the SALE carried one and the
// journal already sent the pay), the journal's outcome, the receipt, the
// RESULT.
func (s *sale) run(w *opWatch, sub queue.Submitted) {
	defer s.d.unwatch(w)
	op := sub.Op
	if cur, err := s.d.eng.Get(s.d.work, s.id); err == nil {
		op = cur // events before the watch existed are in the journal
	}
	if sub.Sent { // this SALE's submit sent the pay
		s.event(ecrproto.EventSent, "payment sent to Alipay", true)
	}
	if op.State == queue.StateWaitingScan {
		var res *ecrproto.Message
		if op, res = s.pay(w, op); res != nil {
			s.l.finish(s)
			s.emit(res)
			s.voidUnsent(op)
			return
		}
	}
	s.complete(s.settle(w, op))
}

// settle follows op until its outcome is known — final, or a cancel the
// journal owns for longer than the cancel wait — and decides it (see
// decideMu). It returns early, undecided, when the daemon stops or the
// sale's bound passes with nothing settled.
func (s *sale) settle(w *opWatch, op queue.Operation) queue.Operation {
	cancelled := false
	for {
		if !op.Final() && !s.d.isStopping() {
			op = s.d.follow(w, op, s.d.saleBound(s, op), s.onEvent)
		}
		if !settled(op) {
			if s.d.isStopping() || cancelled {
				return op
			}
			// The bound passed and the journal did not act (a failing
			// disk, a stuck scheduler): take the cancel on as the journal
			// would have at the pay deadline, once.
			cancelled = true
			s.decideMu.Lock()
			cur, err := s.d.eng.Cancel(s.d.work, s.id)
			s.decideMu.Unlock()
			if err != nil {
				s.l.log.Error().Err(err).Str("ref", s.req.ref).Msg("sale not settled within its bound; cancel not recorded")
				return op
			}
			op = cur
			continue
		}
		s.decideMu.Lock()
		cur, err := s.d.eng.Get(s.d.work, s.id)
		if err == nil && cur.State != op.State { // a cancel came in meanwhile: follow it
			s.decideMu.Unlock()
			op = cur
			continue
		}
		s.mu.Lock()
		s.decided = &op
		s.mu.Unlock()
		s.decideMu.Unlock()
		return op
	}
}

// boundGrace is how long past a deadline of the journal (scan timeout,
// pay deadline plus cancel wait) a sale runner waits for the journal to
// act before it acts itself: no runner waits without a bound.
const boundGrace = 5 * time.Second

// saleBound is how much longer the runner follows op before it stops
// waiting for the journal: the pay deadline plus the cancel wait from when
// the pay was sent, plus boundGrace.
func (d *Daemon) saleBound(s *sale, op queue.Operation) time.Duration {
	p := d.cfg.Payment
	end := s.sentAt.Add(p.PayDeadline + p.CancelWait + boundGrace)
	if op.State == queue.StateCancelling || op.State == queue.StateChecking {
		end = time.Now().Add(p.CancelWait + boundGrace) // follow answers at the cancel wait
	}
	return max(time.Until(end), time.Millisecond)
}

// settled reports whether op's outcome can be told to the ECR: a final
// state, or a cancel the journal owns (CANCELLED, CANCEL_QUEUED).
func settled(op queue.Operation) bool {
	return op.Final() || op.State == queue.StateCancelling || op.State == queue.StateChecking
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

// pay gets the buyer code and starts the pay. It returns the operation
// as it then stands (voided if the wait was cancelled or timed out) and,
// when the sale ends here with nothing sent but the journal could not
// record that, the RESULT to answer at once (see notSent).
func (s *sale) pay(w *opWatch, op queue.Operation) (queue.Operation, *ecrproto.Message) {
	code := s.req.barcode
	if code == "" {
		var ok bool
		if code, op, ok = s.awaitCode(w, op); !ok {
			if op.State == queue.StateWaitingScan && !s.d.isStopping() {
				return op, s.notSent(op, ReasonVoided, "no payment code in time; nothing was charged")
			}
			return op, nil
		}
	}
	res, err := s.d.eng.StartPay(s.d.work, s.id, code)
	if err != nil {
		s.l.log.Info().Err(err).Str("ref", s.req.ref).Msg("pay not started")
		cur, gerr := s.d.eng.Get(s.d.work, s.id)
		if gerr == nil && cur.State != queue.StateWaitingScan {
			return cur, nil // voided meanwhile (ABORT, CANCEL, scan timeout), or already paying
		}
		var state *queue.StateError
		if s.d.isStopping() || errors.As(err, &state) {
			return op, nil // PENDING STOPPING; the journal voids it after the restart
		}
		// StartPay launches the request only after its commit: an error
		// means nothing left for Alipay.
		s.l.log.Error().Err(err).Str("ref", s.req.ref).Msg("journal write failed; the pay was not sent")
		return op, s.notSent(op, ReasonJournalError,
			"the payment could not be recorded, so it was not sent; nothing was charged; try again with a new ref")
	}
	if res.Sent {
		s.sentAt = time.Now()
		s.event(ecrproto.EventSent, "payment sent to Alipay", true)
	}
	return res.Op, nil
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

// voidUnsent records in the journal that the sale whose RESULT said
// "nothing was sent" is over: it retries the void every safetyPoll until
// it is committed, the operation left waiting_scan, the daemon stops, or a
// scan timeout passed (the journal's own scan timeout then voids it).
func (s *sale) voidUnsent(op queue.Operation) {
	defer s.l.forgetUnsent(s.req.ref)
	limit := time.NewTimer(s.d.cfg.Payment.ScanTimeout)
	defer limit.Stop()
	retry := time.NewTicker(safetyPoll)
	defer retry.Stop()
	for {
		cur, err := s.d.eng.Cancel(s.d.work, op.ID)
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

// awaitCode arms the lane's gate and waits for the code from the lane's
// scanner or a SCAN message; it gives up when the operation leaves
// waiting_scan (ABORT, CANCEL, scan timeout), the daemon stops, or — if
// the journal never voids it — the scan timeout plus boundGrace passed.
func (s *sale) awaitCode(w *opWatch, op queue.Operation) (string, queue.Operation, bool) {
	s.setWaiting(true)
	defer s.setWaiting(false)
	s.l.gate.Arm(time.Now())
	defer s.l.gate.Disarm()
	s.event(ecrproto.EventWaitScan, "waiting for the customer's payment code", true)
	poll := time.NewTicker(safetyPoll)
	defer poll.Stop()
	bound := time.NewTimer(time.Until(s.started.Add(s.d.cfg.Payment.ScanTimeout + boundGrace)))
	defer bound.Stop()
	for {
		if cur, err := s.d.eng.Get(s.d.work, s.id); err == nil {
			op = cur
		}
		if op.State != queue.StateWaitingScan {
			return "", op, false
		}
		select {
		case code := <-s.code:
			s.emit(&ecrproto.Message{Type: ecrproto.TypeEvent, Event: ecrproto.EventScanned,
				Buyer: devices.MaskCode(code), Message: "payment code read"})
			return code, op, true
		case <-w.c:
		case <-w.resync:
		case <-poll.C:
		case <-bound.C:
			return "", s.voidNow(op), false
		case <-s.d.stopping:
			return "", op, false
		}
	}
}

// voidNow voids a sale the journal did not void at its scan timeout and
// returns it as it then stands (still waiting_scan if the journal fails).
func (s *sale) voidNow(op queue.Operation) queue.Operation {
	s.setWaiting(false) // no code may start the pay any more
	cur, err := s.d.eng.Cancel(s.d.work, s.id)
	if err != nil {
		s.l.log.Warn().Err(err).Str("ref", s.req.ref).Msg("scan timeout: the journal did not void the sale")
		return op
	}
	return cur
}

// onEvent turns journal events into ECR EVENTs.
func (s *sale) onEvent(ev queue.Event) {
	switch ev.Name {
	case queue.EventSent:
		s.event(ecrproto.EventSent, "payment sent to Alipay", true)
	case queue.EventWaitBuyerConfirm:
		s.event(ecrproto.EventWaitBuyerConfirm, "the customer must confirm the payment on the phone", true)
	case queue.EventCancelling, queue.EventChecking:
		s.event(ecrproto.EventCancelling, "cancelling the payment", true)
	}
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
	queued := decided.State == queue.StateCancelling || decided.State == queue.StateChecking
	res := resultOf(decided, "", queued)
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
