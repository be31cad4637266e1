package queue

import (
	"fmt"
	"time"
)

// change is one durable transition of one operation: the row to write (its
// Version is the version it was read at) and the event that explains it.
type change struct {
	op Operation
	ev Event
	// autoRefund asks the writer to queue a full refund of op (a sale that
	// was paid but can no longer be cancelled) in the same transaction.
	autoRefund bool
}

// lifecycle holds the rules of docs/journal.md as pure functions of an
// operation, an answer and the time.
type lifecycle struct{ cfg Config }

// to moves op to state s with the event name n; the attempts count of the
// new state starts at zero and final states have nothing scheduled.
func to(op Operation, s State, n EventName, now time.Time) change {
	ev := Event{OpID: op.ID, Lane: op.Lane, Ref: op.Ref, Kind: op.Kind, Name: n,
		From: op.State, To: s, At: now}
	if s != op.State {
		op.StateAttempts = 0
	}
	op.State, op.UpdatedAt = s, now
	if s.Final() {
		op.NextAttemptAt, op.FinalAt = time.Time{}, now
	}
	return change{op: op, ev: ev}
}

// manual ends op in StateManual with an actionable reason.
func manual(op Operation, reason string, now time.Time) change {
	c := to(op, StateManual, EventManual, now)
	c.op.Reason, c.ev.Detail = reason, reason
	return c
}

// plan decides what a due operation does now. It returns the gateway call to
// make (CallNone for none) and the change to commit first: for a call, that
// is the write-ahead record (attempt counted, next attempt set to when to try
// again if no answer is recorded).
func (l lifecycle) plan(op Operation, now time.Time) (Call, change) {
	if op.State.Final() {
		op.NextAttemptAt, op.UpdatedAt = time.Time{}, now
		return CallNone, change{op: op}
	}
	if op.State == StateWaitingScan {
		c := to(op, StateVoided, EventVoided, now)
		c.op.Reason = fmt.Sprintf("no buyer code within %s; nothing was sent", l.cfg.ScanTimeout)
		c.ev.Detail = c.op.Reason
		return CallNone, c
	}
	if l.expired(op, now) && op.StateAttempts > 0 && op.State != StatePaying && op.State != StateQuerying {
		// Not before one attempt in the current state, and never while the
		// pay deadline still routes the sale to its cancel: after a clock
		// step (a till booted with a stale clock, then NTP) every open
		// operation looks expired at once.
		return CallNone, manual(op, l.expiryReason(op), now)
	}
	switch op.State {
	case StatePaying, StateQuerying:
		return l.planQuery(op, now)
	case StateCancelling:
		return l.planCancel(op, now)
	case StateChecking:
		return l.planCheck(op, now)
	case StateRefunding:
		return l.planRefund(op, now)
	}
	return CallNone, manual(op, fmt.Sprintf("unknown state %q in the journal: check the operation", op.State), now)
}

// maxDelay is the longest the engine ever plans the next attempt of an
// operation in state s ahead of the time it writes it: a next attempt
// further ahead was written before the clock was stepped back.
func (l lifecycle) maxDelay(s State) time.Duration {
	switch s {
	case StateWaitingScan:
		return l.cfg.ScanTimeout
	case StatePaying, StateQuerying:
		return max(l.cfg.FirstQuery, l.cfg.QueryInterval)
	}
	return max(l.cfg.BackoffMin, l.cfg.BackoffMax)
}

func (l lifecycle) expired(op Operation, now time.Time) bool {
	return now.Sub(op.CreatedAt) >= l.cfg.Expiry
}

func (l lifecycle) exhausted(op Operation) bool {
	return l.cfg.MaxAttempts > 0 && op.StateAttempts >= l.cfg.MaxAttempts
}

// planQuery polls an unknown pay outcome until the deadline, then cancels.
func (l lifecycle) planQuery(op Operation, now time.Time) (Call, change) {
	if !now.Before(op.PaySentAt.Add(l.cfg.PayDeadline)) {
		c := to(op, StateCancelling, EventCancelling, now)
		c.ev.Detail = fmt.Sprintf("pay outcome still unknown %s after sending", l.cfg.PayDeadline)
		return l.planCancel(c.op, now, c.ev)
	}
	name := EventAttempt
	if op.State == StatePaying {
		name = EventRecovered // defensive: a pay whose answer was never recorded
	}
	c := to(op, StateQuerying, name, now)
	next := nextQuery(op.PaySentAt, now, l.cfg.FirstQuery, l.cfg.QueryInterval, l.cfg.PayDeadline)
	return CallQuery, attempt(c, CallQuery, next)
}

// planCancel sends the cancel while the window is open and attempts remain;
// otherwise it checks the trade instead. ev, when given, is the transition
// that led here and is kept as the attempt's event.
func (l lifecycle) planCancel(op Operation, now time.Time, ev ...Event) (Call, change) {
	why := ""
	if end := cancelWindowEnd(l.tradeTime(op), l.cfg.CancelGrace); !now.Before(end) {
		why = fmt.Sprintf("cancel window closed at %s", end.Format(time.RFC3339))
	} else if l.exhausted(op) {
		why = fmt.Sprintf("cancel not confirmed after %d attempts", op.StateAttempts)
	}
	if why != "" {
		call, c := l.toChecking(op, now, why)
		if len(ev) > 0 {
			c.ev.From, c.ev.Detail = ev[0].From, joinDetail(ev[0].Detail, c.ev.Detail)
		}
		return call, c
	}
	c := to(op, StateCancelling, EventAttempt, now)
	if len(ev) > 0 {
		c.ev = ev[0]
	}
	n := c.op.StateAttempts + 1
	return CallCancel, attempt(c, CallCancel, now.Add(backoff(n, l.cfg.BackoffMin, l.cfg.BackoffMax)))
}

// toChecking gives up on the cancel and queries the trade to decide.
func (l lifecycle) toChecking(op Operation, now time.Time, why string) (Call, change) {
	c := to(op, StateChecking, EventChecking, now)
	c.ev.Detail = why + "; querying the trade to decide"
	c.op.Reason = why
	return CallQuery, attempt(c, CallQuery, now.Add(l.cfg.BackoffMin))
}

// planCheck queries a trade whose cancel is impossible.
func (l lifecycle) planCheck(op Operation, now time.Time) (Call, change) {
	if l.exhausted(op) {
		return CallNone, manual(op, l.undecidedReason(op, fmt.Sprintf(
			"the trade's state was not learned after %d queries", op.StateAttempts)), now)
	}
	c := to(op, StateChecking, EventAttempt, now)
	n := c.op.StateAttempts + 1
	return CallQuery, attempt(c, CallQuery, now.Add(backoff(n, l.cfg.BackoffMin, l.cfg.BackoffMax)))
}

// planRefund sends (or re-sends, same partner_refund_id) the refund.
func (l lifecycle) planRefund(op Operation, now time.Time) (Call, change) {
	if l.exhausted(op) {
		return CallNone, manual(op, fmt.Sprintf("refund %s of %d %s on partner_trans_id %s not confirmed "+
			"after %d attempts (last code %q): look it up in the Alipay merchant portal, then resolve "+
			"this operation as refunded or refund_declined", op.PartnerRefundID, op.Amount, op.Currency,
			op.PartnerTransID, op.StateAttempts, op.LastCode), now)
	}
	c := to(op, StateRefunding, EventAttempt, now)
	n := c.op.StateAttempts + 1
	return CallRefund, attempt(c, CallRefund, now.Add(backoff(n, l.cfg.BackoffMin, l.cfg.BackoffMax)))
}

// attempt turns c into the write-ahead record of a call.
func attempt(c change, call Call, retryAt time.Time) change {
	c.op.Attempts++
	c.op.StateAttempts++
	c.op.NextAttemptAt = retryAt
	c.ev.Call = call
	c.ev.Detail = joinDetail(c.ev.Detail, fmt.Sprintf("attempt %d", c.op.StateAttempts))
	return c
}

// tradeTime is when the trade was created at the gateway (for the cancel
// window).
func (l lifecycle) tradeTime(op Operation) time.Time {
	if !op.PaySentAt.IsZero() {
		return op.PaySentAt
	}
	return op.CreatedAt
}

func (l lifecycle) expiryReason(op Operation) string {
	if op.Kind == KindRefund {
		return fmt.Sprintf("refund %s of %d %s not finished %s after it was recorded (state %s, "+
			"%d attempts, last code %q): look it up in the Alipay merchant portal, then resolve this "+
			"operation", op.PartnerRefundID, op.Amount, op.Currency, l.cfg.Expiry, op.State,
			op.Attempts, op.LastCode)
	}
	return l.undecidedReason(op, fmt.Sprintf("not finished %s after it was recorded (state %s, %d attempts)",
		l.cfg.Expiry, op.State, op.Attempts))
}

// undecidedReason tells the technician what to do about a sale whose trade
// state is unknown.
func (l lifecycle) undecidedReason(op Operation, why string) string {
	return fmt.Sprintf("%s, last gateway code %q%s: look up partner_trans_id %s (%d %s) in the "+
		"Alipay merchant portal; if it was paid, refund it there; then resolve this operation",
		joinDetail(op.Reason, why), op.LastCode, codeHint(op.LastCode), op.PartnerTransID, op.Amount,
		op.Currency)
}

// codeHint adds what a technician should check for a gateway code that
// points at the till's own configuration rather than at the trade.
func codeHint(code string) string {
	switch code {
	case "ILLEGAL_SIGN", "ILLEGAL_SIGN_TYPE", "ILLEGAL_KEY":
		return " (the gateway refused the signature: check the keys and sign_type in the config)"
	case "ILLEGAL_PARTNER", "ILLEGAL_PARTNER_EXTERFACE":
		return " (the gateway does not know the partner id: check partner in the config)"
	}
	return ""
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
