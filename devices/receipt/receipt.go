// Package receipt lays out the receipts tillbridge prints: the ticket sale
// receipt and the slips for declined, cancelled and refunded sales. The
// daemon fills a Receipt; Render turns it into ESC/POS bytes for a printer
// profile (58 or 80 mm, code page, QR support).
//
// Texts come from configuration through Labels, so a venue can print in
// Chinese with a GB18030 profile. Amounts are formatted per currency
// exponent here (JPY and KRW have no decimals) without importing alipay.
package receipt

import (
	"time"

	"github.com/tillbridge/tillbridge/devices/escpos"
)

// Kind is the kind of slip.
type Kind string

// Receipt kinds.
const (
	Sale      Kind = "sale"
	Declined  Kind = "declined"
	Cancelled Kind = "cancelled"
	Refunded  Kind = "refunded"
)

// Item is one receipt line: quantity × name, with its line total.
type Item struct {
	Name   string
	Qty    int
	Amount int64 // line total in minor units of Receipt.Currency
}

// Receipt is everything a receipt or slip shows. Zero fields are left out.
type Receipt struct {
	Kind Kind
	// Header is the venue name (first line, printed large) then address
	// lines, from configuration.
	Header []string
	// Lane is the till's lane name; Ref the ECR's ticket reference.
	Lane, Ref string
	// Subject is the sale subject ("2 museum tickets"); Items are optional
	// detail lines.
	Subject string
	Items   []Item
	// Amount is the sale (or, for Refunded, the refund) amount in minor
	// units of Currency.
	Amount   int64
	Currency string
	// TransID is Alipay's transaction id; PartnerTransID ours.
	TransID, PartnerTransID string
	// RefundID is the partner refund id (Refunded only).
	RefundID string
	// Buyer is the buyer's Alipay login as Alipay returned it (masked).
	Buyer string
	// CNYAmount (fen) and Rate are the settlement amount and exchange rate
	// when Alipay reported them; zero/empty means unknown.
	CNYAmount int64
	Rate      string
	// Time is when the sale completed, printed in its own location.
	Time time.Time
	// Reason explains a declined or cancelled sale.
	Reason string
	// QR is the content of the ticket QR code; empty means Ref. NoQR
	// leaves it out.
	QR   string
	NoQR bool
	// Footer lines from configuration ("Thank you", opening hours).
	Footer []string
	// Copy marks a reprint.
	Copy bool
	// Labels are the printed texts; empty fields take English defaults.
	Labels Labels
}

// Labels are the fixed texts of a receipt, configurable per venue.
type Labels struct {
	SaleTitle, DeclinedTitle, CancelledTitle, RefundedTitle string
	Copy                                                    string
	Lane, Ref, Time, Total, Refund                          string
	TransID, PartnerTransID, RefundID, Buyer, CNY, Rate     string
	Reason, DeclinedNote, CancelledNote                     string
	PaidWith                                                string
	TimeFormat                                              string
}

// DefaultLabels are the English texts.
func DefaultLabels() Labels {
	return Labels{
		SaleTitle: "TICKET RECEIPT", DeclinedTitle: "PAYMENT DECLINED",
		CancelledTitle: "PAYMENT CANCELLED", RefundedTitle: "REFUND",
		Copy: "*** COPY ***",
		Lane: "Lane", Ref: "Ref", Time: "Time", Total: "TOTAL", Refund: "REFUNDED",
		TransID: "Alipay trans.", PartnerTransID: "Partner trans.", RefundID: "Refund id",
		Buyer: "Buyer", CNY: "CNY amount", Rate: "Rate", Reason: "Reason",
		DeclinedNote:  "Payment not completed. Nothing was charged.",
		CancelledNote: "Payment cancelled. Any charge is reversed.",
		PaidWith:      "Paid with Alipay",
		TimeFormat:    "2006-01-02 15:04:05",
	}
}

// withDefaults fills empty labels from DefaultLabels.
func (l Labels) withDefaults() Labels {
	d := DefaultLabels()
	fill := func(dst *string, def string) {
		if *dst == "" {
			*dst = def
		}
	}
	fill(&l.SaleTitle, d.SaleTitle)
	fill(&l.DeclinedTitle, d.DeclinedTitle)
	fill(&l.CancelledTitle, d.CancelledTitle)
	fill(&l.RefundedTitle, d.RefundedTitle)
	fill(&l.Copy, d.Copy)
	fill(&l.Lane, d.Lane)
	fill(&l.Ref, d.Ref)
	fill(&l.Time, d.Time)
	fill(&l.Total, d.Total)
	fill(&l.Refund, d.Refund)
	fill(&l.TransID, d.TransID)
	fill(&l.PartnerTransID, d.PartnerTransID)
	fill(&l.RefundID, d.RefundID)
	fill(&l.Buyer, d.Buyer)
	fill(&l.CNY, d.CNY)
	fill(&l.Rate, d.Rate)
	fill(&l.Reason, d.Reason)
	fill(&l.DeclinedNote, d.DeclinedNote)
	fill(&l.CancelledNote, d.CancelledNote)
	fill(&l.PaidWith, d.PaidWith)
	fill(&l.TimeFormat, d.TimeFormat)
	return l
}

// title returns the slip title for r's kind.
func (r Receipt) title(l Labels) string {
	switch r.Kind {
	case Declined:
		return l.DeclinedTitle
	case Cancelled:
		return l.CancelledTitle
	case Refunded:
		return l.RefundedTitle
	}
	return l.SaleTitle
}

// Sample is a receipt with every field set, for previews and tests.
func Sample() Receipt {
	return Receipt{
		Kind:    Sale,
		Header:  []string{"City Museum", "1 Museum Square", "1000 Brussels"},
		Lane:    "lane-1",
		Ref:     "T-20250301-0042",
		Subject: "Museum admission",
		Items: []Item{
			{Name: "Adult ticket", Qty: 2, Amount: 2500},
			{Name: "Child ticket", Qty: 1, Amount: 750},
		},
		Amount:         3250,
		Currency:       "EUR",
		TransID:        "2025030122001412345678901234",
		PartnerTransID: "tb-lane-1-0000000042",
		Buyer:          "abc***@163.com",
		CNYAmount:      25340,
		Rate:           "7.7969",
		Time:           time.Date(2025, 3, 1, 10, 15, 30, 0, time.UTC),
		Footer:         []string{"Thank you for your visit!", "Keep this receipt as your ticket."},
	}
}

// Render lays r out for printer profile p and returns the ESC/POS job,
// ending with a cut. It never fails: data the printer cannot take (a QR
// code too long) is printed as text instead.
func Render(p escpos.Profile, r Receipt) []byte {
	l := r.Labels.withDefaults()
	e := escpos.NewEncoder(p).Init()
	w := layout{e: e, cols: p.Columns}
	w.header(r)
	w.title(r, l)
	w.details(r, l)
	switch r.Kind {
	case Declined, Cancelled:
		w.failure(r, l)
	default:
		w.items(r)
		w.total(r, l)
		w.payment(r, l)
		w.qr(r)
	}
	w.footer(r)
	e.Cut(escpos.CutPartial, 0)
	job, err := e.Job()
	if err != nil { // not reachable: layout only emits valid commands
		return e.Bytes()
	}
	return job
}
