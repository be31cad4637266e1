package queue

import (
	"context"
	"sync"
	"time"
)

// resyncTolerance is how far the wall clock may drift from the engine's
// time before the engine re-anchors its time to it (when idle).
const resyncTolerance = time.Second

// Clock is the engine's source of time. docs/journal.md ("Clocks") explains
// how the engine uses it.
type Clock interface {
	// Now returns the wall-clock time. It may be stepped either way (NTP,
	// an operator, a till booted with a stale clock).
	Now() time.Time
	// Monotonic returns the time elapsed since a fixed origin on a clock
	// that is never stepped.
	Monotonic() time.Duration
}

// SystemClock returns the system's clock: the wall clock, and Go's
// monotonic clock for elapsed time.
func SystemClock() Clock { return funcClock(time.Now) }

// funcClock makes a Clock of a wall-clock function. Elapsed time is the
// difference of its readings since the clock was made: monotonic when the
// readings carry Go's monotonic clock (time.Now), the wall clock's own
// differences otherwise (an injected Config.Now: its steps are then steps
// of the engine's time too).
func funcClock(now func() time.Time) Clock {
	return &nowClock{now: now, origin: now()}
}

type nowClock struct {
	now    func() time.Time
	origin time.Time
}

func (c *nowClock) Now() time.Time           { return c.now() }
func (c *nowClock) Monotonic() time.Duration { return c.now().Sub(c.origin) }

// engineClock is the engine's time: the wall clock read at an anchor,
// advanced by the monotonic clock since. Every time the engine writes or
// compares (next attempts, deadlines, cadence, events) is on this basis, so
// a step of the wall clock while the engine runs moves nothing. The anchor
// is taken at Open and again, when the wall clock has moved away, at an
// idle moment (nothing scheduled, nothing in flight: see Engine.resync).
type engineClock struct {
	c    Clock
	mu   sync.Mutex
	wall time.Time     // wall reading at the anchor, without a monotonic reading
	mono time.Duration // monotonic reading at the anchor
}

func newEngineClock(c Clock) *engineClock {
	k := &engineClock{c: c}
	k.anchor()
	return k
}

// now returns the engine's time.
func (k *engineClock) now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.wall.Add(k.c.Monotonic() - k.mono)
}

// since returns the monotonic time elapsed since the engine time t.
func (k *engineClock) since(t time.Time) time.Duration { return k.now().Sub(t) }

// skew returns how far the wall clock is from the engine's time (the sum of
// the wall clock's steps since the anchor).
func (k *engineClock) skew() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	mono, wall := k.c.Monotonic(), k.c.Now()
	return wall.Sub(k.wall.Add(mono - k.mono))
}

// anchor sets the engine's time to the wall clock and returns the step.
func (k *engineClock) anchor() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	mono, wall := k.c.Monotonic(), k.c.Now().Round(0)
	step := time.Duration(0)
	if !k.wall.IsZero() {
		step = wall.Sub(k.wall.Add(mono - k.mono))
	}
	k.wall, k.mono = wall, mono
	return step
}

// resync re-anchors the engine's time to the wall clock once it has moved
// away by resyncTolerance or more (a step), but only when nothing is
// scheduled and no call is in flight or unrecorded: no stored time is then
// on the old basis, so the re-anchoring can delay or hurry nothing. Until
// then the engine keeps its monotonic basis and the journal's times differ
// from the wall clock by the step. It holds the write lock so that no write
// uses the old basis after it.
func (e *Engine) resync(ctx context.Context) {
	skew := e.clk.skew()
	if skew.Abs() < resyncTolerance {
		return
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.mu.Lock()
	idle := len(e.busy) == 0 && e.inflight == 0 && len(e.results) == 0
	e.mu.Unlock()
	if !idle {
		return
	}
	var scheduled bool
	err := e.st.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM operations
		WHERE next_attempt_at IS NOT NULL)`).Scan(&scheduled)
	if err != nil {
		e.cfg.Logger.Warn("queue: cannot check for scheduled operations", "err", err)
		return
	}
	if scheduled {
		return
	}
	step := e.clk.anchor()
	e.cfg.Logger.Warn("queue: the wall clock was stepped; engine time re-anchored to it",
		"step", step.String())
}

// UntilPayDeadline returns how long until a paying or querying sale reaches
// its pay deadline (when the engine turns it to cancelling), on the
// engine's monotonic basis: a sale runner can wait on a timer of this
// duration (plus the time a cancel takes) and is never frozen by a
// wall-clock step. It is 0 when the deadline has passed or op is in another
// state, and never more than PayDeadline.
func (e *Engine) UntilPayDeadline(op Operation) time.Duration {
	if op.Kind != KindSale || (op.State != StatePaying && op.State != StateQuerying) ||
		op.PaySentAt.IsZero() {
		return 0
	}
	left := e.cfg.PayDeadline - e.clk.since(op.PaySentAt)
	return min(max(left, 0), e.cfg.PayDeadline)
}
