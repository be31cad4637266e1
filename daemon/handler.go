package daemon

import (
	"context"
	"errors"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// ServeECR implements ecrproto.Handler: the sale flow and the other ECR
// requests. ctx ends when the connection closes; nothing here lets that
// affect a money movement (journal work runs on the daemon's own context).
func (d *Daemon) ServeECR(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
	if req.Type == ecrproto.TypeDevices {
		d.serveDevices(ctx, req, w)
		return
	}
	l, ok := d.lanes[req.Lane]
	if !ok {
		d.sendErr(w, &ecrproto.Error{Code: ecrproto.CodeNotFound, Field: "lane", Message: "no lane " + quote(req.Lane) + " is configured"})
		return
	}
	switch req.Type {
	case ecrproto.TypeSale:
		d.serveSale(ctx, l, req, w)
	case ecrproto.TypeStatus:
		d.serveStatus(l, req, w)
	case ecrproto.TypeCancel:
		d.serveCancel(l, req, w)
	case ecrproto.TypeRefund:
		d.serveRefund(l, req, w)
	case ecrproto.TypeScan:
		d.serveScan(l, req, w)
	case ecrproto.TypeAbort:
		d.serveAbort(l, req, w)
	case ecrproto.TypePrint:
		d.servePrint(l, req, w)
	default:
		d.sendErr(w, ecrproto.Errorf(ecrproto.CodeType, "%s is not handled here", req.Type))
	}
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
	w := l.d.watchOp(saleKey(l.cfg.ID, r.ref)) // before the journal: miss no event
	sub, err := l.submit(r)
	op := sub.Op
	if err != nil || op.Final() {
		l.d.unwatch(w)
		return nil, op, false, err
	}
	s := newSale(l.d, l, r, op.ID)
	l.cur = s
	l.d.bg.Add(1)
	go func() {
		defer l.d.bg.Done()
		s.run(w, sub)
	}()
	return s, op, op.State != queue.StateWaitingScan, nil
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

// send sends m, ignoring a broken connection (the ECR recovers by STATUS).
func send(w ecrproto.ResponseWriter, m *ecrproto.Message) { _ = w.Send(m) }

// sendErr answers err as an ERROR: an *ecrproto.Error as is, anything
// else as E_INTERNAL with a generic message.
func sendErr(w ecrproto.ResponseWriter, err error) {
	pe := ecrproto.AsError(err)
	send(w, pe.Reply(nil))
}

func refConflict(field string) *ecrproto.Error {
	return &ecrproto.Error{Code: ecrproto.CodeRefConflict, Field: field,
		Message: "this ref was already used with a different " + field}
}

// journalErr maps the journal's typed errors to protocol errors.
func journalErr(err error) error {
	var (
		conflict *queue.RefConflictError
		invalid  *queue.InvalidError
		limit    *queue.LimitError
		exceeds  *queue.RefundExceedsError
		state    *queue.StateError
	)
	switch {
	case errors.As(err, &conflict):
		if conflict.Field == "buyer code" {
			return refConflict("barcode")
		}
		return refConflict(conflict.Field)
	case errors.As(err, &invalid):
		return ecrproto.FieldError(invalid.Field, "%s", invalid.Reason)
	case errors.As(err, &exceeds):
		return ecrproto.FieldError("amount", "only %d is left to refund", exceeds.Available)
	case errors.As(err, &limit):
		return ecrproto.Errorf(ecrproto.CodeUnavailable, "store-and-forward limit %s reached; try again later", limit.Limit)
	case errors.As(err, &state):
		return ecrproto.FieldError("ref", "%s", state.Reason)
	case errors.Is(err, queue.ErrNotFound):
		return ecrproto.Errorf(ecrproto.CodeNotFound, "no such sale")
	case errors.Is(err, queue.ErrClosed):
		return ecrproto.Errorf(ecrproto.CodeUnavailable, "tillbridge is stopping; try again shortly")
	}
	return err
}

func quote(s string) string { return `"` + s + `"` }
