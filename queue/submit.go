package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// maxField is the longest lane, ref, terminal or id accepted (Alipay's ids
// are String(64)).
const maxField = 64

// Sale is what the ECR asks for.
type Sale struct {
	Lane     string // the till; required
	Ref      string // the ECR's reference, unique per lane; required
	Amount   int64  // minor units of Currency; > 0
	Currency string // ISO 4217, upper case
	Subject  string // trans_name shown to the buyer
	Terminal string // terminal id, part of the partner_trans_id
	// BuyerCode, when the ECR sends it with the sale, starts the pay at once
	// (see StartPay). It is never stored.
	BuyerCode string
}

// Submitted is what SubmitSale and StartPay did.
type Submitted struct {
	// Op is the sale as recorded (as this call committed it, or as it was
	// found for a repeat).
	Op Operation
	// Sent reports that this call committed the pay attempt and sent the
	// pay. False for a sale without a code and for a repeat: the pay, if
	// any, was sent by an earlier call (never twice).
	Sent bool
}

// SubmitSale records a sale in waiting_scan. With a BuyerCode, the same
// transaction also commits the pay attempt, and the pay is sent at once (see
// StartPay). Submitting the same (lane, ref) again with the same amount,
// currency, subject and terminal returns the recorded operation (and never
// pays twice); with different ones it fails with *RefConflictError. A new
// sale beyond a store-and-forward limit fails with *LimitError.
func (e *Engine) SubmitSale(ctx context.Context, s Sale) (Submitted, error) {
	if err := validSale(s); err != nil {
		return Submitted{}, err
	}
	if e.isClosed() {
		return Submitted{}, ErrClosed
	}
	fresh, err := e.newSale(s)
	if err != nil {
		return Submitted{}, err
	}
	e.claim(fresh.ID) // a new id: nobody else holds it
	var op Operation
	isNew, send := false, false
	err = e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		old, err := getOpByRef(ctx, tx, s.Lane, KindSale, s.Ref)
		if err == nil {
			op = old
			return sameSale(old, s)
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := e.checkLimits(ctx, tx, s.Currency, s.Amount); err != nil {
			return err
		}
		op, isNew = e.stamp(fresh), true
		if err := insertOp(ctx, tx, op); err != nil {
			return err
		}
		if err := rec.event(Event{OpID: op.ID, Lane: op.Lane, Ref: op.Ref, Kind: op.Kind,
			Name: EventWaitScan, From: op.State, To: op.State, At: op.CreatedAt}); err != nil {
			return err
		}
		if s.BuyerCode == "" {
			return nil
		}
		c := e.payAttempt(op, s.BuyerCode)
		e.hook(FailBeforeCommit, CallPay, c.op)
		op, err = rec.apply(c)
		send = err == nil
		return err
	})
	if err == nil && send {
		// Only now is the write-ahead record of the pay on disk: a failed
		// COMMIT (a full disk) must never be followed by the pay.
		e.launch(op, CallPay, s.BuyerCode) // the claim passes to the call
		return Submitted{Op: op, Sent: true}, nil
	}
	e.release(fresh.ID)
	if err != nil && isNew {
		return Submitted{}, err // nothing was recorded
	}
	if err != nil || isNew || s.BuyerCode == "" {
		return Submitted{Op: op}, err
	}
	if op.State != StateWaitingScan && op.BuyerMasked == MaskCode(s.BuyerCode) {
		return Submitted{Op: op}, nil // a repeat of a sale already paying: never pay twice
	}
	return e.StartPay(ctx, op.ID, s.BuyerCode)
}

func (e *Engine) newSale(s Sale) (Operation, error) {
	now := e.clk.now()
	id, err := newOpID(now, e.cfg.Rand)
	if err != nil {
		return Operation{}, err
	}
	ptid, err := newPartnerID("TB", s.Terminal, now, e.cfg.Rand)
	if err != nil {
		return Operation{}, err
	}
	return Operation{ID: id, Kind: KindSale, Lane: s.Lane, Ref: s.Ref, State: StateWaitingScan,
		PartnerTransID: ptid, Amount: s.Amount, Currency: s.Currency, Subject: s.Subject,
		Terminal: s.Terminal, NextAttemptAt: now.Add(e.cfg.ScanTimeout), CreatedAt: now,
		UpdatedAt: now, Version: 1}, nil
}

// stamp sets a new sale's times to now, inside its write transaction: the
// engine's time basis changes only under the write lock (see resync).
func (e *Engine) stamp(op Operation) Operation {
	now := e.clk.now()
	op.CreatedAt, op.UpdatedAt, op.NextAttemptAt = now, now, now.Add(e.cfg.ScanTimeout)
	return op
}

func validSale(s Sale) error {
	if err := validIdent("lane", s.Lane); err != nil {
		return err
	}
	if err := validIdent("ref", s.Ref); err != nil {
		return err
	}
	if len(s.Terminal) > maxField {
		return &InvalidError{Field: "terminal", Reason: "longer than 64"}
	}
	if len(s.Subject) > 256 {
		return &InvalidError{Field: "subject", Reason: "longer than 256"}
	}
	if s.BuyerCode != "" && len(s.BuyerCode) > maxField {
		return &InvalidError{Field: "buyer code", Reason: "longer than 64"}
	}
	return validMoney(s.Amount, s.Currency)
}

func validIdent(field, v string) error {
	switch {
	case v == "":
		return &InvalidError{Field: field, Reason: "empty"}
	case len(v) > maxField:
		return &InvalidError{Field: field, Reason: "longer than 64"}
	}
	return nil
}

func validMoney(amount int64, currency string) error {
	if amount <= 0 {
		return &InvalidError{Field: "amount", Reason: "not positive"}
	}
	if len(currency) != 3 {
		return &InvalidError{Field: "currency", Reason: "not a 3-letter code"}
	}
	for _, r := range currency {
		if r < 'A' || r > 'Z' {
			return &InvalidError{Field: "currency", Reason: "not upper-case letters"}
		}
	}
	return nil
}

// sameSale accepts a repeated submit only with the same parameters.
func sameSale(old Operation, s Sale) error {
	diff := ""
	switch {
	case old.Amount != s.Amount:
		diff = "amount"
	case old.Currency != s.Currency:
		diff = "currency"
	case old.Subject != s.Subject:
		diff = "subject"
	case old.Terminal != s.Terminal:
		diff = "terminal"
	case s.BuyerCode != "" && old.BuyerMasked != "" && old.BuyerMasked != MaskCode(s.BuyerCode):
		diff = "buyer code"
	}
	if diff != "" {
		return &RefConflictError{Lane: s.Lane, Ref: s.Ref, Field: diff, Existing: old}
	}
	return nil
}

// StartPay commits the pay attempt of a sale waiting for its code and sends
// the pay in the background (Sent); the answer arrives in the journal (Watch,
// Subscribe). The full code is kept only in memory for this one call: after
// a restart the sale is queried and, at the deadline, cancelled. Calling it
// again for a sale already paying with the same code returns the operation,
// not Sent.
func (e *Engine) StartPay(ctx context.Context, id, buyerCode string) (Submitted, error) {
	if buyerCode == "" || len(buyerCode) > maxField {
		return Submitted{}, &InvalidError{Field: "buyer code", Reason: "empty or longer than 64"}
	}
	if !e.claim(id) {
		op, err := e.Get(ctx, id) // a call is in flight: this is a repeat
		return Submitted{Op: op}, err
	}
	var op Operation
	send := false
	err := e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		cur, err := getOp(ctx, tx, id)
		if err != nil {
			return err
		}
		op = cur
		if cur.State != StateWaitingScan {
			return e.repeatedPay(cur, buyerCode)
		}
		c := e.payAttempt(cur, buyerCode)
		e.hook(FailBeforeCommit, CallPay, c.op)
		op, err = rec.apply(c)
		send = err == nil
		return err
	})
	if err != nil || !send {
		e.release(id)
		return Submitted{Op: op}, e.staleAsState(err, op, "start the pay")
	}
	e.launch(op, CallPay, buyerCode) // the claim passes to the call
	return Submitted{Op: op, Sent: true}, nil
}

// payAttempt is the write-ahead record of the pay: if the process dies after
// it, the sale is queried at FirstQuery, never paid again.
func (e *Engine) payAttempt(op Operation, code string) change {
	now := e.clk.now()
	op.BuyerMasked, op.PaySentAt = MaskCode(code), now
	c := to(op, StatePaying, EventSent, now)
	c.ev.Detail = "buyer " + op.BuyerMasked + "; partner_trans_id=" + op.PartnerTransID
	return attempt(c, CallPay, now.Add(e.cfg.FirstQuery))
}

func (e *Engine) repeatedPay(cur Operation, code string) error {
	if cur.BuyerMasked == MaskCode(code) && cur.State != StateVoided {
		return nil // same sale, same code: already sent; never pay twice
	}
	return &StateError{OpID: cur.ID, State: cur.State, Action: "start the pay",
		Reason: "the sale is no longer waiting for a buyer code"}
}

// claim marks id busy for the caller; false when a call holds it.
func (e *Engine) claim(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.busy[id]; ok {
		return false
	}
	e.busy[id] = struct{}{}
	return true
}

// release gives up a claim that did not launch a call, and wakes the
// scheduler: a pass that ran meanwhile (a commit under the claim kicks it)
// skipped the operation as busy and planned its sleep without it.
func (e *Engine) release(id string) {
	e.mu.Lock()
	delete(e.busy, id)
	e.mu.Unlock()
	e.Kick()
}

// staleAsState turns a lost version race into a StateError naming the state
// that won.
func (e *Engine) staleAsState(err error, op Operation, action string) error {
	if errors.Is(err, errStale) {
		return &StateError{OpID: op.ID, State: op.State, Action: action,
			Reason: "the operation changed meanwhile; read it again"}
	}
	return err
}

// checkLimits refuses new work beyond the store-and-forward limits.
func (e *Engine) checkLimits(ctx context.Context, q querier, currency string, amount int64) error {
	var open int64
	var pending sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*),
		SUM(CASE WHEN currency = ? THEN amount END) FROM operations
		WHERE state IN (?, ?, ?, ?, ?, ?)`, currency, StateWaitingScan, StatePaying,
		StateQuerying, StateCancelling, StateChecking, StateRefunding).Scan(&open, &pending)
	if err != nil {
		return fmt.Errorf("queue: check limits: %w", err)
	}
	if e.cfg.MaxOpen > 0 && open >= int64(e.cfg.MaxOpen) {
		return &LimitError{Limit: "max_open", Max: int64(e.cfg.MaxOpen), Current: open}
	}
	if max, ok := e.cfg.MaxPendingAmount[currency]; ok && pending.Int64+amount > max {
		return &LimitError{Limit: "max_pending_amount", Currency: currency, Max: max,
			Current: pending.Int64}
	}
	return nil
}
