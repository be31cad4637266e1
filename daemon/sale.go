package daemon

import (
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

	mu      sync.Mutex
	msgs    []*ecrproto.Message // EVENTs, then the final RESULT
	changed chan struct{}       // closed and replaced at every message
	final   bool
	waiting bool            // waiting for the buyer code
	sent    map[string]bool // journal-driven EVENTs already sent
}

func newSale(d *Daemon, l *lane, r saleReq, id string) *sale {
	return &sale{d: d, l: l, req: r, id: id, code: make(chan string, 1),
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
func (s *sale) run(w *opWatch, op queue.Operation) {
	defer s.d.unwatch(w)
	sent := op.State == queue.StatePaying && op.Attempts == 1
	if cur, err := s.d.eng.Get(s.d.work, s.id); err == nil {
		op = cur // events before the watch existed are in the journal
	}
	if sent {
		s.event(ecrproto.EventSent, "payment sent to Alipay", true)
	}
	if op.State == queue.StateWaitingScan {
		op = s.pay(w, op)
	}
	if !op.Final() && !s.d.isStopping() {
		op = s.d.follow(w, op, 0, s.onEvent)
	}
	s.complete(op)
}

// pay gets the buyer code and starts the pay. It returns the operation
// as it then stands (voided if the wait was cancelled or timed out).
func (s *sale) pay(w *opWatch, op queue.Operation) queue.Operation {
	code := s.req.barcode
	if code == "" {
		var ok bool
		if code, op, ok = s.awaitCode(w, op); !ok {
			return op
		}
	}
	started, err := s.d.eng.StartPay(s.d.work, s.id, code)
	if err != nil {
		s.l.log.Info().Err(err).Str("ref", s.req.ref).Msg("pay not started")
		if cur, gerr := s.d.eng.Get(s.d.work, s.id); gerr == nil {
			return cur
		}
		return op
	}
	s.event(ecrproto.EventSent, "payment sent to Alipay", true)
	return started
}

// awaitCode arms the lane's gate and waits for the code from the lane's
// scanner or a SCAN message; it gives up when the operation leaves
// waiting_scan (ABORT, CANCEL, scan timeout) or the daemon stops.
func (s *sale) awaitCode(w *opWatch, op queue.Operation) (string, queue.Operation, bool) {
	s.setWaiting(true)
	defer s.setWaiting(false)
	s.l.gate.Arm(time.Now())
	defer s.l.gate.Disarm()
	s.event(ecrproto.EventWaitScan, "waiting for the customer's payment code", true)
	poll := time.NewTicker(safetyPoll)
	defer poll.Stop()
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
		case <-s.d.stopping:
			return "", op, false
		}
	}
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

// complete prints the receipt and sends the RESULT; a sale the daemon
// stopped in the middle of answers PENDING (the journal keeps it).
func (s *sale) complete(op queue.Operation) {
	queued := op.State == queue.StateCancelling || op.State == queue.StateChecking
	if !op.Final() && !queued {
		s.l.finish(s)
		s.emit(pendingResult(op, ReasonStopping, "tillbridge is stopping; the sale is kept; ask STATUS with the same ref"))
		return
	}
	res := resultOf(op, "", queued)
	s.d.printOutcome(s.l, op, "", res, s.event)
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
