package daemon

import (
	"context"
	"errors"

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
