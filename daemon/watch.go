package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

// opWatch is how a sale runner or a request waits on one operation: the
// journal's Watch of it (queue.Engine.Watch: the current state first, then
// each commit, only the newest if the reader fell behind, closed after a
// final state) and the operation as last read. The daemon keeps no other
// subscription and polls nothing: the journal says when the state changes.
type opWatch struct {
	d   *Daemon
	ctx context.Context
	c   <-chan queue.Update // nil once the watch ended or could not start
	op  queue.Operation     // the operation as last read
	ev  queue.EventName     // the event recorded with op ("" when op was read otherwise)
}

// watchOp watches op (as the caller read it) until ctx ends, and takes
// the journal's current state of it, which Watch has ready when it returns.
func (d *Daemon) watchOp(ctx context.Context, op queue.Operation) *opWatch {
	w := &opWatch{d: d, ctx: ctx, op: op}
	w.open()
	select {
	case u, ok := <-w.c:
		w.take(u, ok)
	default:
	}
	return w
}

// open starts the journal's watch. If the journal cannot (a read error),
// the error is logged and nothing arrives: the caller's bounds apply, as
// when the journal does not act.
func (w *opWatch) open() {
	c, err := w.d.eng.Watch(w.ctx, w.op.ID)
	if err != nil {
		if w.ctx.Err() == nil && !errors.Is(err, queue.ErrClosed) {
			w.d.log.Error().Err(err).Str("op", w.op.ID).Msg("cannot watch the operation in the journal")
		}
		return
	}
	w.c = c
}

// take records what the watch delivered (ok false: it ended). A state
// older than the one known is ignored. It reports whether w.op changed.
func (w *opWatch) take(u queue.Update, ok bool) bool {
	if !ok {
		w.c = nil
		return false
	}
	if u.Op.Version < w.op.Version {
		return false
	}
	w.op, w.ev = u.Op, u.Event
	return true
}

// reset takes cur, which the caller read or wrote itself, as the state
// unless a newer one is known, and watches again if the watch ended on a
// final state the operation has left since (a cancel after paid).
func (w *opWatch) reset(cur queue.Operation) {
	if cur.Version > w.op.Version {
		w.op, w.ev = cur, ""
	}
	if w.c == nil && !w.op.Final() {
		w.open()
	}
}

// follow waits on w until its operation is final, the daemon stops, limit
// passes (0: no limit), or — once the journal owns a cancel of it
// (cancelling, checking) — the cancel wait has passed: the ECR then hears
// CANCELLED, CANCEL_QUEUED. onUpdate, if set, sees the state at the start
// and each update.
func (d *Daemon) follow(w *opWatch, limit time.Duration, onUpdate func(queue.Update)) {
	var deadline, cancelT <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		deadline = t.C
	}
	if onUpdate != nil {
		onUpdate(queue.Update{Op: w.op, Event: w.ev})
	}
	for !w.op.Final() {
		if cancelT == nil && cancelOwned(w.op) {
			t := time.NewTimer(d.cfg.Payment.CancelWait)
			defer t.Stop()
			cancelT = t.C
		}
		select {
		case u, ok := <-w.c:
			if w.take(u, ok) && onUpdate != nil {
				onUpdate(u)
			}
		case <-cancelT:
			return
		case <-deadline:
			return
		case <-d.stopping:
			return
		}
	}
}
