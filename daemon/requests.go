package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// serveStatus answers the RESULT of a ref (sale, else refund), or of the
// lane's last sale: PENDING while not final.
func (d *Daemon) serveStatus(l *lane, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	op, err := d.lookup(l, req.Ref)
	if err != nil {
		d.sendErr(w, err)
		return
	}
	if s := l.current(); s != nil && s.id == op.ID {
		send(w, s.statusResult(op)) // its own stream still owns the outcome
		return
	}
	if op.Kind == queue.KindSale && op.State == queue.StateWaitingScan {
		if res, _, ok := l.unsentResult(op.Ref); ok {
			send(w, res) // answered "not sent"; the journal has not caught up yet
			return
		}
	}
	send(w, d.opResult(d.work, op))
}

// statusResult is STATUS's answer for the running sale: its decided
// outcome, else PENDING — even when the journal already holds a final
// state the runner has not decided on, so STATUS never runs ahead of the
// SALE's RESULT (an ABORT may still turn it into a cancel until then).
func (s *sale) statusResult(op queue.Operation) *ecrproto.Message {
	if decided, ok := s.decision(); ok {
		return s.d.opResult(s.d.work, decided)
	}
	return pendingResult(op, ReasonInProgress, "not final yet; ask STATUS again")
}

// lookup finds the operation of ref on lane: a sale, else a refund; with
// no ref, the lane's last sale.
func (d *Daemon) lookup(l *lane, ref string) (queue.Operation, error) {
	if ref == "" {
		return d.lastSale(l)
	}
	op, err := d.eng.GetByRef(d.work, l.cfg.ID, queue.KindSale, ref)
	if errors.Is(err, queue.ErrNotFound) {
		op, err = d.eng.GetByRef(d.work, l.cfg.ID, queue.KindRefund, ref)
	}
	if errors.Is(err, queue.ErrNotFound) {
		return op, ecrproto.Errorf(ecrproto.CodeNotFound, "no sale or refund %s on lane %s", ref, l.cfg.ID)
	}
	return op, err
}

func (d *Daemon) lastSale(l *lane) (queue.Operation, error) {
	l.mu.Lock()
	ref := l.lastRef
	l.mu.Unlock()
	if ref != "" {
		return d.eng.GetByRef(d.work, l.cfg.ID, queue.KindSale, ref)
	}
	ops, err := d.eng.List(d.work, queue.Filter{Lane: l.cfg.ID, Kind: queue.KindSale, Limit: 1, Order: queue.NewestFirst})
	if err != nil {
		return queue.Operation{}, err
	}
	if len(ops) == 0 {
		return queue.Operation{}, ecrproto.Errorf(ecrproto.CodeNotFound, "lane %s has no sale yet", l.cfg.ID)
	}
	return ops[0], nil
}

// serveCancel cancels a sale by ref: voided before the pay, else the
// journal takes on the cancel (reversal of a paid sale within its window).
func (d *Daemon) serveCancel(l *lane, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	op, err := d.eng.GetByRef(d.work, l.cfg.ID, queue.KindSale, req.Ref)
	if err != nil {
		d.sendErr(w, journalErr(err))
		return
	}
	after, err := d.cancelSale(l, op.ID, func(m *ecrproto.Message) { send(w, m) })
	var state *queue.StateError
	if errors.As(err, &state) {
		res := d.opResult(d.work, after)
		res.Message = "not cancelled: " + state.Reason
		send(w, res)
		return
	}
	if err != nil {
		d.sendErr(w, journalErr(err))
		return
	}
	var once sync.Once
	cancelling := func() {
		once.Do(func() {
			send(w, &ecrproto.Message{Type: ecrproto.TypeEvent, Event: ecrproto.EventCancelling, Message: "cancelling the payment"})
		})
	}
	if cancelOwned(after) {
		cancelling() // Cancel itself committed it (it may be confirmed before the watch starts)
	}
	d.answerAfter(l, w, after, "", func(u queue.Update) {
		if cancelOwned(u.Op) {
			cancelling()
		}
	})
}

// cancelSale commits the cancel of sale id. For the lane's running sale
// the cancel is ordered against the runner's decision (sale.decideMu):
// before it, the cancel is committed and the sale's RESULT reports it;
// after it, the RESULT is fixed, so the cancel waits until that RESULT is
// out (the receipt's print, bounded) and is then an explicit reversal of
// the outcome the ECR heard — never answered before the SALE's APPROVED.
// event tells the waiting ECR why its answer takes a moment.
func (d *Daemon) cancelSale(l *lane, id string, event func(*ecrproto.Message)) (queue.Operation, error) {
	s := l.current()
	if s == nil || s.id != id {
		return d.eng.Cancel(d.work, id)
	}
	s.decideMu.Lock()
	if _, decided := s.decision(); !decided {
		defer s.decideMu.Unlock()
		return d.eng.Cancel(d.work, id)
	}
	s.decideMu.Unlock()
	event(&ecrproto.Message{Type: ecrproto.TypeEvent, Event: ecrproto.EventPrinting,
		Message: "the sale's receipt is printing; the cancel follows its RESULT"})
	if !s.awaitResult(d.resultBound()) {
		return queue.Operation{}, ecrproto.Errorf(ecrproto.CodeUnavailable,
			"sale %s has not sent its RESULT yet (receipt printing); nothing was cancelled; try again", s.req.ref)
	}
	return d.eng.Cancel(d.work, id)
}

// resultBound bounds the time from a sale's decision to its RESULT: the
// receipt's print and the cash drawer, each within the print timeout.
func (d *Daemon) resultBound() time.Duration { return 2*d.opts.PrintTimeout + time.Second }

// awaitResult waits until the sale's RESULT is emitted, within limit or
// until the daemon stops; it reports whether the RESULT is out.
func (s *sale) awaitResult(limit time.Duration) bool {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		_, changed, final := s.since(0)
		if final {
			return true
		}
		select {
		case <-changed:
		case <-t.C:
			return false
		case <-s.d.stopping:
			return false
		}
	}
}

// answerAfter follows op to its outcome (bounded by the cancel wait for
// cancels and refunds; onUpdate sees its state as it goes) and answers it,
// printing the slip unless the op is the lane's running sale (whose own
// runner prints).
func (d *Daemon) answerAfter(l *lane, w ecrproto.ResponseWriter, op queue.Operation, saleRef string, onUpdate func(queue.Update)) {
	if !op.Final() {
		ctx, cancel := context.WithCancel(d.work)
		ow := d.watchOp(ctx, op)
		d.follow(ow, d.cfg.Payment.CancelWait, onUpdate)
		cancel()
		op = ow.op
	}
	res := d.opResult(d.work, op)
	if s := l.current(); op.Final() && (s == nil || s.id != op.ID) {
		res.Receipt = ""
		d.printOutcome(l, op, saleRef, res, func(name, msg string, _ bool) {
			send(w, &ecrproto.Message{Type: ecrproto.TypeEvent, Event: name, Message: msg})
		})
	}
	send(w, res)
}

// serveRefund records a refund of a paid sale and answers its outcome
// (PENDING when the gateway has not answered within the cancel wait: the
// journal keeps retrying).
func (d *Daemon) serveRefund(l *lane, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	var amount int64
	if req.Amount != nil {
		amount = *req.Amount
	}
	op, err := d.eng.SubmitRefund(d.work, queue.Refund{Lane: l.cfg.ID, RefundRef: req.RefundRef,
		SaleRef: req.Ref, Amount: amount, Currency: req.Currency, Reason: "refund requested by the till"})
	if err != nil {
		d.sendErr(w, journalErr(err))
		return
	}
	d.answerAfter(l, w, op, req.Ref, nil)
}

// serveScan delivers a code read by another device (an EFT POS) to the
// lane's waiting sale.
func (d *Daemon) serveScan(l *lane, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	switch l.offer(devices.Scan{Code: req.Barcode, At: time.Now(), Source: "ecr"}) {
	case "":
		send(w, okResult("code accepted"))
	case devices.DropNotAlipay:
		d.sendErr(w, ecrproto.FieldError("barcode", "not an Alipay payment code (16-24 digits starting 25-30)"))
	default:
		d.sendErr(w, ecrproto.Errorf(ecrproto.CodeNotFound, "lane %s is not waiting for a payment code", l.cfg.ID))
	}
}

// serveAbort stops the lane's running sale: before the pay it is voided at
// once, after it the journal takes on the cancel. Once the sale's outcome
// is decided (sale.settle) the sale is over: ABORT is refused with
// E_NOT_FOUND and cancels nothing — the SALE's RESULT stands; CANCEL
// reverses it explicitly.
func (d *Daemon) serveAbort(l *lane, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	s := l.current()
	if s == nil || (req.Ref != "" && req.Ref != s.req.ref) {
		d.sendErr(w, ecrproto.Errorf(ecrproto.CodeNotFound, "lane %s has no such sale in flight", l.cfg.ID))
		return
	}
	op, over, err := s.abort()
	if over {
		d.sendErr(w, ecrproto.Errorf(ecrproto.CodeNotFound, "sale %s is over (%s): nothing was aborted; "+
			"its RESULT is on the SALE; CANCEL reverses it", s.req.ref, ecrStatus(op, cancelOwned(op))))
		return
	}
	if err != nil {
		d.sendErr(w, journalErr(err))
		return
	}
	msg := "cancel requested; the sale's RESULT follows on its own request"
	if op.State == queue.StateVoided {
		msg = "stopped before the payment was sent; nothing was charged"
	}
	res := okResult(msg)
	res.Ref = s.req.ref
	send(w, res)
}

// abort commits the cancel of the running sale unless its outcome is
// decided or the journal already holds it final (over: nothing done).
func (s *sale) abort() (op queue.Operation, over bool, err error) {
	s.decideMu.Lock()
	defer s.decideMu.Unlock()
	if decided, ok := s.decision(); ok {
		return decided, true, nil
	}
	op, err = s.d.eng.Abort(s.d.work, s.id) // refused, in the same transaction, once final
	var final *queue.StateError
	if errors.As(err, &final) && op.Final() {
		return op, true, nil
	}
	return op, false, err
}

func okResult(msg string) *ecrproto.Message {
	return &ecrproto.Message{Type: ecrproto.TypeResult, Status: ecrproto.StatusOK, Message: msg}
}

// servePrint prints the request's text on the lane's printer; without text
// it reprints the receipt of ref, or the lane's last receipt.
func (d *Daemon) servePrint(l *lane, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	if l.printer == nil {
		d.sendErr(w, ecrproto.Errorf(ecrproto.CodeUnavailable, "lane %s has no printer", l.cfg.ID))
		return
	}
	job, err := d.printJobFor(l, req)
	if err != nil {
		d.sendErr(w, err)
		return
	}
	if problem := l.printJob(job); problem != "" {
		d.sendErr(w, ecrproto.Errorf(ecrproto.CodeUnavailable, "printer %s: %s", l.printer.Name(), problem))
		return
	}
	send(w, okResult("printed"))
}

func (d *Daemon) printJobFor(l *lane, req *ecrproto.Message) ([]byte, error) {
	if req.Receipt != "" {
		e := escpos.NewEncoder(l.profile()).Init()
		for _, line := range strings.Split(req.Receipt, "\n") {
			e.Line(line)
		}
		return e.Cut(escpos.CutPartial, 0).Job()
	}
	if req.Ref == "" {
		l.mu.Lock()
		job := l.lastReceipt
		l.mu.Unlock()
		if job == nil {
			return nil, ecrproto.Errorf(ecrproto.CodeNotFound, "lane %s has printed no receipt yet", l.cfg.ID)
		}
		return job, nil
	}
	op, err := d.lookup(l, req.Ref)
	if err != nil {
		return nil, err
	}
	saleRef := ""
	if op.Kind == queue.KindRefund {
		if sale, err := d.eng.Get(d.work, op.ParentID); err == nil {
			saleRef = sale.Ref
		}
	}
	r, ok := d.receiptFor(op, saleRef, true)
	if !ok {
		return nil, ecrproto.Errorf(ecrproto.CodeNotFound, "%s has no receipt (%s)", req.Ref, op.State)
	}
	return l.renderReceipt(r), nil
}

// serveDevices reports the lane's (or every lane's) printer and scanner.
func (d *Daemon) serveDevices(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	ids := d.laneOrder
	if req.Lane != "" {
		if _, ok := d.lanes[req.Lane]; !ok {
			d.sendErr(w, &ecrproto.Error{Code: ecrproto.CodeNotFound, Field: "lane", Message: "no lane " + quote(req.Lane) + " is configured"})
			return
		}
		ids = []string{req.Lane}
	}
	var parts []string
	for _, id := range ids {
		for _, ds := range d.lanes[id].deviceStates(ctx) {
			parts = append(parts, fmt.Sprintf("lane %s %s %s: %s", id, ds.Kind, ds.Name, ds.State))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no devices configured")
	}
	send(w, okResult(strings.Join(parts, "; ")))
}

// sendErr answers err as an ERROR; anything but a protocol error is logged
// and answered E_INTERNAL with a generic message.
func (d *Daemon) sendErr(w ecrproto.ResponseWriter, err error) {
	var pe *ecrproto.Error
	if !errors.As(err, &pe) {
		d.log.Error().Err(err).Uint64("conn", w.ConnID()).Msg("ecr request failed")
	}
	sendErr(w, err)
}
