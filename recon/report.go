// Package recon reconciles the till's payment journals with Alipay's
// transaction and settlement files: it matches every record of the files
// against the journal by partner_trans_id / partner_refund_id, classifies
// what does not agree (docs/reconciliation.md explains each class to store
// IT), totals the day per currency, and keeps exceptions and carried-over
// items in its own SQLite database until a person resolves them.
//
// Subpackages: recon/parse reads the files, recon/fetch gets them from a
// folder or by SFTP and archives them.
package recon

import (
	"strconv"
	"time"

	"github.com/tillbridge/tillbridge/recon/parse"
)

// Class is what reconciliation concluded about one item.
type Class string

// Classes. Exception classes need a person (Class.Exception).
const (
	// ClassMatched: Alipay's record and the journal agree.
	ClassMatched Class = "matched"
	// ClassLateMatched: an item carried over from an earlier day was
	// found in this day's file and agrees.
	ClassLateMatched Class = "late_matched"
	// ClassCancelled: a trade Alipay lists as paid and then cancelled or
	// reversed, cancelled (or never approved) here too: no money kept.
	ClassCancelled Class = "cancelled"
	// ClassSettled: a settlement record that agrees with the journal.
	ClassSettled Class = "settled"
	// ClassOtherTill: a record whose partner id is not this till's (another
	// till of the same partner); listed apart, not checked.
	ClassOtherTill Class = "other_till"
	// ClassPendingHere: an operation still being worked on by the engine
	// (querying, cancelling, checking, refunding); see tillbridge queue.
	ClassPendingHere Class = "pending_here"

	// ClassPaidNotApproved: Alipay took the money but the till never
	// approved the sale (or does not know it): the customer paid and got
	// no ticket. The worst class.
	ClassPaidNotApproved Class = "paid_not_approved"
	// ClassMissingAtAlipay: approved here, not paid at Alipay (yet):
	// a ticket was given without money. Carried over to the next days.
	ClassMissingAtAlipay Class = "missing_at_alipay"
	// ClassAmountMismatch: both sides know the payment but disagree on the
	// amount or the currency.
	ClassAmountMismatch Class = "amount_mismatch"
	// ClassRefundMismatch: a refund on one side only, or with another
	// amount or currency.
	ClassRefundMismatch Class = "refund_mismatch"
	// ClassCancelMismatch: a cancel or reversal on one side only.
	ClassCancelMismatch Class = "cancel_mismatch"
	// ClassDuplicatePayment: one ECR sale paid more than once.
	ClassDuplicatePayment Class = "duplicate_payment"
	// ClassSettlementMismatch: a settlement record that does not agree
	// with the journal (amount, currency, unknown trade, fee arithmetic).
	ClassSettlementMismatch Class = "settlement_mismatch"
	// ClassBadLine: a line of Alipay's file that could not be read.
	ClassBadLine Class = "bad_line"
)

// Exception reports whether items of the class need a person.
func (c Class) Exception() bool {
	switch c {
	case ClassMatched, ClassLateMatched, ClassCancelled, ClassSettled, ClassOtherTill, ClassPendingHere:
		return false
	}
	return true
}

// Classes lists every class, exceptions first by severity.
func Classes() []Class {
	return []Class{ClassPaidNotApproved, ClassMissingAtAlipay, ClassAmountMismatch, ClassDuplicatePayment,
		ClassRefundMismatch, ClassCancelMismatch, ClassSettlementMismatch, ClassBadLine,
		ClassPendingHere, ClassOtherTill, ClassCancelled, ClassLateMatched, ClassSettled, ClassMatched}
}

// Item is one reconciled record or journal operation.
type Item struct {
	Class Class `json:"class"`
	// Key is the partner_trans_id (payments, cancels) or partner_refund_id
	// (refunds) the item is about.
	Key string `json:"key"`
	// Type is the movement: PAYMENT, REFUND, CANCEL, REVERSAL (transaction
	// file, or expected from the journal), P or R (settlement file).
	Type string `json:"type"`
	// File and Line locate the record in Alipay's file (empty/0 for an
	// item of the journal only).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// AlipayTransID is Alipay's trade id.
	AlipayTransID string `json:"alipay_trans_id,omitempty"`
	// Amount and Currency are Alipay's (minor units); Fee the charge;
	// Settlement the settled amount (settlement file).
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	Fee        int64  `json:"fee,omitempty"`
	Settlement int64  `json:"settlement,omitempty"`
	// Journal, OpID, Lane, Ref, State, LocalAmount and LocalCurrency
	// describe the journal's operation, when there is one.
	Journal       string `json:"journal,omitempty"`
	OpID          string `json:"op_id,omitempty"`
	Lane          string `json:"lane,omitempty"`
	Ref           string `json:"ref,omitempty"`
	State         string `json:"state,omitempty"`
	LocalAmount   int64  `json:"local_amount,omitempty"`
	LocalCurrency string `json:"local_currency,omitempty"`
	// Carried marks an item re-checked against the next days' files.
	Carried bool `json:"carried,omitempty"`
	// Detail says what is wrong and what to do, in words.
	Detail string `json:"detail,omitempty"`
}

// Totals are the sums of one currency on one day, in minor units.
type Totals struct {
	Currency string `json:"currency"`
	// From Alipay's transaction file (this till's records only).
	Payments      int   `json:"payments"`
	PaymentSum    int64 `json:"payment_sum"`
	Refunds       int   `json:"refunds"`
	RefundSum     int64 `json:"refund_sum"`
	Cancels       int   `json:"cancels"` // CANCEL and REVERSAL
	CancelSum     int64 `json:"cancel_sum"`
	Fees          int64 `json:"fees"`
	Net           int64 `json:"net"` // payments − refunds − cancels − fees
	OtherTillRecs int   `json:"other_till_records"`
	OtherTillNet  int64 `json:"other_till_net"`
	// From the journals: what the tills expect for the day.
	JournalPayments   int   `json:"journal_payments"`
	JournalPaymentSum int64 `json:"journal_payment_sum"`
	JournalRefunds    int   `json:"journal_refunds"`
	JournalRefundSum  int64 `json:"journal_refund_sum"`
	JournalCancels    int   `json:"journal_cancels"`
	JournalCancelSum  int64 `json:"journal_cancel_sum"`
	// From the settlement file.
	Settled        int   `json:"settled"`
	SettledAmount  int64 `json:"settled_amount"` // P − R
	SettlementFees int64 `json:"settlement_fees"`
	NetSettlement  int64 `json:"net_settlement"` // Settlement of P − Settlement of R
}

// Report is the result of reconciling one day.
type Report struct {
	// Day is the Beijing (GMT+8) day of the transaction file, YYYY-MM-DD.
	Day      string    `json:"day"`
	Partner  string    `json:"partner"`
	Created  time.Time `json:"created"`
	Files    []string  `json:"files"`
	Journals []string  `json:"journals"`
	// Items lists every item; Counts counts them per class.
	Items  []Item        `json:"items"`
	Counts map[Class]int `json:"counts"`
	// Totals per currency, sorted by currency.
	Totals []Totals `json:"totals"`
	// Problems are the bad lines of the files (also ClassBadLine items).
	Problems []parse.Problem `json:"problems,omitempty"`
	// Exceptions counts the items that need a person.
	Exceptions int `json:"exceptions"`
}

// Verdict is one line for status displays: OK, or the number of
// exceptions and the worst class.
func (r *Report) Verdict() string {
	if r.Exceptions == 0 {
		return "OK"
	}
	for _, c := range Classes() {
		if c.Exception() && r.Counts[c] > 0 {
			return "EXCEPTIONS: " + strconv.Itoa(r.Exceptions) + " (worst: " + string(c) + ")"
		}
	}
	return "EXCEPTIONS: " + strconv.Itoa(r.Exceptions)
}
