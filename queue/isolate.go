package queue

import (
	"errors"
	"time"
)

// isolate runs fn under a savepoint of the pass's transaction: if fn fails,
// its writes and events are undone and the other operations of the pass are
// still committed, so that one operation that cannot be written never stalls
// every other till's sale. It returns fn's error, and a fatal error when the
// transaction itself can no longer be trusted.
func (r *recorder) isolate(fn func() error) (opErr, fatal error) {
	if _, err := r.tx.ExecContext(r.ctx, "SAVEPOINT op"); err != nil {
		return nil, err
	}
	n, ns := len(r.events), len(r.states)
	if opErr = fn(); opErr == nil {
		_, fatal = r.tx.ExecContext(r.ctx, "RELEASE op")
		return nil, fatal
	}
	r.events, r.states = r.events[:n], r.states[:ns]
	if _, err := r.tx.ExecContext(r.ctx, "ROLLBACK TO op"); err != nil {
		return opErr, errors.Join(opErr, err)
	}
	_, fatal = r.tx.ExecContext(r.ctx, "RELEASE op")
	return opErr, fatal
}

// quarantine logs an operation the scheduler could not write and leaves it
// alone for errorWait; it stays due and is tried again after that.
func (e *Engine) quarantine(id string, now time.Time, what string, err error) {
	e.cfg.Logger.Error("queue: cannot "+what+"; retrying later", "op", id, "err", err)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cool[id] = now.Add(errorWait)
}

// longestWait is how long the scheduler may sleep: maxWait, or errorWait
// while an operation is in quarantine.
func (e *Engine) longestWait() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.cool) > 0 {
		return errorWait
	}
	return maxWait
}
