package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// maxWait bounds how long the scheduler sleeps without looking at the
// journal (a safety net against clock jumps).
const maxWait = time.Minute

// errorWait is how long the scheduler waits after a journal error.
const errorWait = time.Second

// Engine is the journal and its scheduler. Open it, run Run in a goroutine,
// and Close it at shutdown. All methods are safe for concurrent use.
type Engine struct {
	cfg Config
	clk *engineClock // the engine's time (see clock.go)
	gw  Gateway
	st  *store
	lc  lifecycle
	hub *hub

	wmu  sync.Mutex    // serialises write transactions and their publication
	kick chan struct{} // wakes the scheduler (buffered, 1)
	sem  chan struct{} // gateway calls in flight
	stop chan struct{} // closed by Close

	callCtx     context.Context // parent of every gateway call
	cancelCalls context.CancelFunc
	calls       sync.WaitGroup // gateway call goroutines

	mu       sync.Mutex
	busy     map[string]struct{}  // operations with a call in flight or unrecorded
	cool     map[string]time.Time // operations that could not be written, left alone until
	inflight int                  // launched calls not yet finished
	results  []result             // finished calls waiting to be recorded
	running  bool
	closed   bool
	runDone  chan struct{}
}

// Open opens (or creates) the journal file and recovers it: sales still
// waiting for their code are voided, and sales caught mid-pay are switched to
// querying. The gateway is not contacted until Run or StartPay.
func Open(ctx context.Context, file string, gw Gateway, cfg Config) (*Engine, error) {
	if gw == nil {
		return nil, &ConfigError{Field: "gateway", Reason: "nil"}
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("queue: journal path: %w", err)
	}
	st, err := openStore(ctx, abs, cfg)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, clk: newEngineClock(cfg.Clock), gw: gw, st: st, lc: lifecycle{cfg: cfg}, hub: newHub(),
		kick: make(chan struct{}, 1), sem: make(chan struct{}, cfg.MaxConcurrentCalls),
		stop: make(chan struct{}), busy: map[string]struct{}{}, cool: map[string]time.Time{}, runDone: make(chan struct{})}
	e.callCtx, e.cancelCalls = context.WithCancel(context.WithoutCancel(ctx))
	if err := e.recover(ctx); err != nil {
		e.cancelCalls()
		return nil, errors.Join(err, st.close())
	}
	return e, nil
}

// Run drives the operations until ctx is done or the engine is closed: one
// goroutine, one timer set to the earliest next attempt, woken early by
// submits and finished calls. It returns nil on a normal stop.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.running || e.closed {
		e.mu.Unlock()
		return errors.New("queue: Run called twice or after Close")
	}
	e.running = true
	e.mu.Unlock()
	defer close(e.runDone)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		timer.Reset(e.step(ctx)) // Go ≥ 1.23 timers: Reset never leaves a stale tick
		select {
		case <-ctx.Done():
			return nil
		case <-e.stop:
			return nil
		case <-e.kick:
		case <-timer.C:
		}
	}
}

// step runs one scheduler pass and returns how long to sleep.
func (e *Engine) step(ctx context.Context) time.Duration {
	wait, err := e.cycle(ctx)
	if err != nil {
		e.cfg.Logger.Error("queue: scheduler pass failed; retrying", "err", err)
		return errorWait
	}
	return wait
}

// Kick wakes the scheduler (after an outside change to the journal).
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Close stops the scheduler, waits for gateway calls in flight until ctx is
// done (then aborts them: their outcome stays unknown and is resolved after
// the next Open), records their answers and closes the journal.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	e.closed = true
	running := e.running
	e.mu.Unlock()
	close(e.stop)
	if running {
		<-e.runDone
	}
	done := make(chan struct{})
	go func() { e.calls.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		e.cancelCalls()
		<-done
	}
	e.cancelCalls()
	err := e.flush(context.WithoutCancel(ctx))
	e.hub.close()
	return errors.Join(err, e.st.close())
}

// Subscribe returns a subscription to every event recorded from now on.
func (e *Engine) Subscribe() *Subscription { return e.hub.add(e.cfg.SubscriberBuffer) }

// isClosed reports whether Close was called.
func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// write runs fn in one write transaction; after the commit it publishes the
// events fn recorded, in order, and wakes the scheduler.
func (e *Engine) write(ctx context.Context, fn func(tx *sql.Tx, rec *recorder) error) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	rec := &recorder{ctx: ctx, e: e}
	err := e.st.inTx(ctx, func(tx *sql.Tx) error {
		rec.tx = tx
		return fn(tx, rec)
	})
	if err != nil {
		return err
	}
	e.hub.publish(rec.events, rec.states)
	e.Kick()
	return nil
}

// recorder collects the events and the operation states of one write
// transaction, published once it commits.
type recorder struct {
	ctx    context.Context
	e      *Engine
	tx     *sql.Tx
	events []Event
	states []Update // each operation row as written, in order (for watchers)
}

// event appends ev to the log.
func (r *recorder) event(ev Event) error {
	if err := insertEvent(r.ctx, r.tx, &ev); err != nil {
		return err
	}
	r.events = append(r.events, ev)
	return nil
}

// apply writes a change (guarded by the operation's version) and its event,
// and queues the automatic refund it asks for. It returns the row as written.
func (r *recorder) apply(c change) (Operation, error) {
	if c.autoRefund {
		if err := r.autoRefund(&c); err != nil {
			return c.op, err
		}
	}
	if err := updateOp(r.ctx, r.tx, c.op); err != nil {
		return c.op, err
	}
	c.op.Version++
	if c.ev.Name != "" {
		if err := r.event(c.ev); err != nil {
			return c.op, err
		}
	}
	r.states = append(r.states, Update{Op: stored(c.op), Event: c.ev.Name})
	return c.op, nil
}
