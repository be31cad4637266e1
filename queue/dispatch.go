package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// launchItem is a call whose write-ahead record is committed.
type launchItem struct {
	op   Operation
	call Call
}

// cycle is one scheduler pass. In one transaction it records the answers
// of the finished calls, then plans the due operations and commits their
// transitions and the write-ahead records of their calls (as many calls as
// there are free slots). Then it launches those calls and returns how long
// until the next attempt is due. One commit per pass keeps the fsync rate
// low when many operations poll at once (group commit).
func (e *Engine) cycle(ctx context.Context) (time.Duration, error) {
	e.resync(ctx)
	rs := e.takeResults()
	now := e.clk.now()
	free, busy := e.slots()
	var due []Operation
	if free > 0 {
		ops, err := dueOps(ctx, e.st.r, now, free+len(busy))
		if err != nil {
			e.requeue(rs)
			return 0, err
		}
		due = e.claimAll(notBusy(ops, busy))
	}
	items, err := e.commitCycle(ctx, rs, due, free, now)
	e.releaseUnlaunched(due, items)
	if err != nil {
		e.requeue(rs)
		return 0, err
	}
	e.unbusy(rs)
	for _, it := range items {
		e.launch(it.op, it.call, "") // the claim passes to the call
	}
	if free-len(items) <= 0 {
		return e.longestWait(), nil // a finishing call kicks the scheduler
	}
	return e.untilNext(ctx, now)
}

// flush records the answers of finished calls (at Close).
func (e *Engine) flush(ctx context.Context) error {
	rs := e.takeResults()
	if _, err := e.commitCycle(ctx, rs, nil, 0, e.clk.now()); err != nil {
		e.requeue(rs)
		return err
	}
	e.unbusy(rs)
	return nil
}

// claimAll claims the operations the pass will plan, before any commit, so
// that an operator's RetryNow or Resolve can never slip in between a
// write-ahead record and its call. Operations claimed by someone else are
// left for a later pass.
func (e *Engine) claimAll(ops []Operation) []Operation {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := ops[:0]
	for _, op := range ops {
		if _, held := e.busy[op.ID]; !held {
			e.busy[op.ID] = struct{}{}
			out = append(out, op)
		}
	}
	return out
}

// releaseUnlaunched releases the claims of planned operations that got no
// call (a transition without one, no free slot, a lost race, an error).
func (e *Engine) releaseUnlaunched(claimed []Operation, items []launchItem) {
	launched := make(map[string]bool, len(items))
	for _, it := range items {
		launched[it.op.ID] = true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, op := range claimed {
		if !launched[op.ID] {
			delete(e.busy, op.ID)
		}
	}
}

func (e *Engine) takeResults() []result {
	e.mu.Lock()
	defer e.mu.Unlock()
	rs := e.results
	e.results = nil
	return rs
}

// requeue puts back answers whose transaction failed; they stay busy.
func (e *Engine) requeue(rs []result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.results = append(rs, e.results...)
}

// unbusy frees the operations whose answers are recorded.
func (e *Engine) unbusy(rs []result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range rs {
		delete(e.busy, r.op.ID)
	}
}

// slots returns the number of free call slots and the busy operations.
func (e *Engine) slots() (int, map[string]struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	busy := make(map[string]struct{}, len(e.busy)+len(e.cool))
	for id := range e.busy {
		busy[id] = struct{}{}
	}
	now := e.clk.now()
	for id, until := range e.cool {
		if now.Before(until) {
			busy[id] = struct{}{}
		} else {
			delete(e.cool, id)
		}
	}
	return e.cfg.MaxConcurrentCalls - e.inflight, busy
}

func notBusy(ops []Operation, busy map[string]struct{}) []Operation {
	out := ops[:0]
	for _, op := range ops {
		if _, ok := busy[op.ID]; !ok {
			out = append(out, op)
		}
	}
	return out
}

// commitCycle records the answers rs, then plans each due operation and
// commits the plans: transitions without a call, and the write-ahead records
// of at most free calls, all in one transaction.
func (e *Engine) commitCycle(ctx context.Context, rs []result, ops []Operation, free int,
	now time.Time) ([]launchItem, error) {
	if len(rs) == 0 && len(ops) == 0 {
		return nil, nil
	}
	var items []launchItem
	err := e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		items = items[:0]
		for _, r := range rs {
			opErr, fatal := rec.isolate(func() error { return e.record(tx, rec, r, now) })
			if fatal != nil {
				return fatal
			}
			if opErr != nil { // the answer is dropped: the write-ahead record stands, as after a crash
				e.quarantine(r.op.ID, now, "record the answer", opErr)
			}
		}
		for _, op := range ops {
			call, c := e.lc.plan(op, now)
			if call != CallNone && len(items) == free {
				continue // no slot: stays due for the next pass
			}
			if call != CallNone {
				e.hook(FailBeforeCommit, call, c.op)
			}
			var written Operation
			opErr, fatal := rec.isolate(func() (err error) { written, err = rec.apply(c); return err })
			switch {
			case fatal != nil:
				return fatal
			case errors.Is(opErr, errStale):
				continue // changed since read (a Cancel, a Resolve): planned again next pass
			case opErr != nil:
				e.quarantine(op.ID, now, "plan", opErr)
				continue
			}
			if call != CallNone {
				items = append(items, launchItem{op: written, call: call})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// untilNext returns the time until the earliest attempt of an operation
// without a call in flight, capped at maxWait.
func (e *Engine) untilNext(ctx context.Context, now time.Time) (time.Duration, error) {
	_, busy := e.slots()
	ids, ats, err := nextDue(ctx, e.st.r, len(busy)+1)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if _, ok := busy[id]; ok {
			continue
		}
		return min(max(ats[i].Sub(now), 0), e.longestWait()), nil
	}
	return e.longestWait(), nil
}

// launch runs one gateway call in its own goroutine. code is the full buyer
// code for a pay; it lives only in this goroutine.
func (e *Engine) launch(op Operation, call Call, code string) {
	e.mu.Lock()
	e.inflight++
	e.busy[op.ID] = struct{}{}
	e.mu.Unlock()
	e.calls.Add(1)
	go func() {
		defer e.calls.Done()
		r := e.callGateway(op, call, code)
		e.hook(FailAfterCallBeforeRecord, call, op)
		e.mu.Lock()
		e.inflight--
		e.results = append(e.results, r)
		e.mu.Unlock()
		e.Kick()
	}()
}

// callGateway waits for a call slot and makes the call. A panic in the
// gateway is an unknown outcome, like any error.
func (e *Engine) callGateway(op Operation, call Call, code string) (r result) {
	r = result{op: op, call: call}
	select {
	case e.sem <- struct{}{}:
	case <-e.callCtx.Done():
		r.err = fmt.Errorf("not sent: %w", e.callCtx.Err())
		return r
	}
	defer func() { <-e.sem }()
	defer func() {
		if p := recover(); p != nil {
			r.err = fmt.Errorf("gateway panic: %v", p)
		}
	}()
	e.hook(FailAfterCommitBeforeCall, call, op)
	ctx, cancel := context.WithTimeout(e.callCtx, e.cfg.CallTimeout)
	defer cancel()
	switch call {
	case CallPay:
		r.pay, r.err = e.gw.Pay(ctx, PayRequest{PartnerTransID: op.PartnerTransID, BuyerCode: code,
			Amount: op.Amount, Currency: op.Currency, Subject: op.Subject, Terminal: op.Terminal,
			CreatedAt: op.CreatedAt})
	case CallQuery:
		r.query, r.err = e.gw.Query(ctx, op.PartnerTransID)
	case CallCancel:
		r.cancel, r.err = e.gw.Cancel(ctx, op.PartnerTransID)
	case CallRefund:
		r.refund, r.err = e.gw.Refund(ctx, RefundRequest{PartnerTransID: op.PartnerTransID,
			PartnerRefundID: op.PartnerRefundID, Amount: op.Amount, Currency: op.Currency,
			Reason: op.Reason})
	}
	return r
}

func (e *Engine) record(tx *sql.Tx, rec *recorder, r result, now time.Time) error {
	c := e.lc.answer(r, now)
	_, err := rec.apply(c)
	if !errors.Is(err, errStale) {
		return err
	}
	cur, err := getOp(rec.ctx, tx, r.op.ID)
	if err != nil {
		return err
	}
	ev := c.ev
	ev.Name, ev.From, ev.To = EventSuperseded, cur.State, cur.State
	ev.Detail = clip(joinDetail(fmt.Sprintf("late %s answer (would have gone %s→%s) ignored", r.call,
		c.ev.From, c.ev.To), joinDetail(c.ev.Detail, tradeDetail(c.op))))
	return rec.event(ev)
}

func tradeDetail(op Operation) string {
	if op.AlipayTransID == "" {
		return ""
	}
	return "alipay_trans_id=" + op.AlipayTransID
}

// hook runs the configured test hook, if any.
func (e *Engine) hook(p Failpoint, call Call, op Operation) {
	if e.cfg.Hook != nil {
		e.cfg.Hook(p, call, op)
	}
}
