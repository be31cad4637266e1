package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Update is one committed state of a watched operation (see Engine.Watch).
type Update struct {
	// Op is the operation as committed: what Get returned at that moment.
	Op Operation
	// Event names the event recorded with this state (the ECR's
	// WAIT_BUYER_CONFIRM, say, is a querying sale whose latest event is
	// EventWaitBuyerConfirm); for the first Update of a watch, the
	// operation's latest event. Empty when the commit recorded none.
	Event EventName
}

// Watch follows the committed state of operation id. The channel delivers
// the current state first — it is in the channel when Watch returns — then
// each state committed after it, in commit order, and is closed after a
// final state, when ctx ends, or when the engine closes.
//
// It is a state watcher, not an event log: the engine never waits for a
// watcher, so one that falls behind gets only the latest state — updates
// coalesce to the newest committed version, a newer state is never
// followed by an older one, and a final state is always delivered before
// the channel closes for it. A receiver that keeps up sees every commit.
// A channel closed without a final state means ctx ended or the engine
// closed; read the operation with Get (or Watch again after a restart:
// the first Update is then the state the engine recovered).
//
// Watch fails with ErrNotFound (wrapped) for an unknown id, ErrClosed once
// the engine is closed, and ctx's error if ctx is already done.
func (e *Engine) Watch(ctx context.Context, id string) (<-chan Update, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, err := e.hub.watch(id)
	if err != nil {
		return nil, err
	}
	// Registered before the read: a commit after the read is offered to w,
	// one before it is in the read. Versions order the two.
	first, err := e.current(ctx, id)
	if err != nil {
		e.hub.unwatch(w)
		return nil, err
	}
	e.hub.start(ctx, w, first)
	return w.c, nil
}

// current reads operation id and the name of its latest event in one
// statement (one snapshot of the journal).
func (e *Engine) current(ctx context.Context, id string) (Update, error) {
	row := e.st.r.QueryRowContext(ctx, "SELECT "+opColumns+`,
		COALESCE((SELECT name FROM events WHERE op_id = operations.id ORDER BY seq DESC LIMIT 1), '')
		FROM operations WHERE id = ?`, id)
	var u Update
	op, err := scanOp(withLastEvent{row, &u.Event})
	if errors.Is(err, sql.ErrNoRows) {
		return Update{}, fmt.Errorf("%w: id %s", ErrNotFound, id)
	}
	if err != nil {
		return Update{}, fmt.Errorf("queue: watch %s: %w", id, err)
	}
	u.Op = op
	return u, nil
}

// withLastEvent scans the operation's columns and, after them, the name of
// its latest event.
type withLastEvent struct {
	r    rowScanner
	name *EventName
}

func (s withLastEvent) Scan(dest ...any) error { return s.r.Scan(append(dest, s.name)...) }

// stored returns op as the journal stores it and Get reads it back: times
// in whole milliseconds, UTC; zero times stay zero.
func stored(op Operation) Operation {
	ms := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return time.UnixMilli(t.UnixMilli()).UTC()
	}
	op.NextAttemptAt, op.PaySentAt, op.PaidAt, op.FinalAt = ms(op.NextAttemptAt), ms(op.PaySentAt), ms(op.PaidAt), ms(op.FinalAt)
	op.CreatedAt, op.UpdatedAt = ms(op.CreatedAt), ms(op.UpdatedAt)
	return op
}

// watcher is one Watch: a one-slot channel the hub overwrites with the
// newest update, so that offering never blocks.
type watcher struct {
	id   string
	c    chan Update
	last int64       // version of the newest update offered
	stop func() bool // stops the ctx watch; nil until started
}

// watch registers a watcher of id.
func (h *hub) watch(id string) (*watcher, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	w := &watcher{id: id, c: make(chan Update, 1)}
	if h.watches[id] == nil {
		h.watches[id] = map[*watcher]struct{}{}
	}
	h.watches[id][w] = struct{}{}
	return w, nil
}

// start offers w its first update and ties it to ctx.
func (h *hub) start(ctx context.Context, w *watcher, first Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watches[w.id][w]; !ok {
		return // closed meanwhile: a final state, or the engine closed
	}
	h.offer(w, first)
	if _, ok := h.watches[w.id][w]; ok {
		w.stop = context.AfterFunc(ctx, func() { h.unwatch(w) })
	}
}

// unwatch ends w and closes its channel.
func (h *hub) unwatch(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.end(w)
}

// end removes w and closes its channel, once. Caller holds h.mu.
func (h *hub) end(w *watcher) {
	ws, ok := h.watches[w.id]
	if _, in := ws[w]; !ok || !in {
		return
	}
	delete(ws, w)
	if len(ws) == 0 {
		delete(h.watches, w.id)
	}
	if w.stop != nil {
		w.stop()
	}
	close(w.c)
}

// offer replaces what w has not received yet with u, unless w was offered
// this version or a newer one already; a final state ends w. It never
// blocks: only the hub sends on w.c, under h.mu, into a slot it has just
// emptied. Caller holds h.mu.
func (h *hub) offer(w *watcher, u Update) {
	if u.Op.Version <= w.last {
		return
	}
	w.last = u.Op.Version
	select {
	case <-w.c:
	default:
	}
	w.c <- u
	if u.Op.Final() {
		h.end(w)
	}
}

// publishStates offers each committed state to the watchers of its
// operation. Caller holds h.mu.
func (h *hub) publishStates(us []Update) {
	for _, u := range us {
		for w := range h.watches[u.Op.ID] {
			h.offer(w, u)
		}
	}
}
