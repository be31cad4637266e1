package daemon

import (
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/receipt"
	"github.com/tillbridge/tillbridge/queue"
)

// receiptFor fills the receipt of a final operation: a ticket receipt for a
// paid sale, a slip for a declined, cancelled or refunded one. Voided and
// manual operations, and those not final, have none.
func (d *Daemon) receiptFor(op queue.Operation, saleRef string, reprint bool) (receipt.Receipt, bool) {
	kind, ok := receiptKind(op)
	if !ok {
		return receipt.Receipt{}, false
	}
	rc := d.cfg.Receipt
	r := receipt.Receipt{Kind: kind, Lane: op.Lane, Ref: op.Ref, Subject: op.Subject,
		Amount: op.Amount, Currency: op.Currency, TransID: op.AlipayTransID,
		PartnerTransID: op.PartnerTransID, Buyer: op.BuyerLogin, Rate: op.ExchangeRate,
		Time: op.FinalAt, Footer: rc.Footer, NoQR: !rc.QR, Copy: reprint}
	if rc.Venue != "" {
		r.Header = append([]string{rc.Venue}, rc.Lines...)
	}
	if !op.PaidAt.IsZero() && kind == receipt.Sale {
		r.Time = op.PaidAt
	}
	if op.AmountCNY != "" {
		r.CNYAmount, _ = alipay.ParseAmount(op.AmountCNY, "CNY")
	}
	if op.Kind == queue.KindRefund {
		r.Ref, r.RefundID = saleRef, op.PartnerRefundID
	}
	if kind == receipt.Declined || kind == receipt.Cancelled {
		r.Reason = finalReason(op)
	}
	return r, true
}

func receiptKind(op queue.Operation) (receipt.Kind, bool) {
	switch op.State {
	case queue.StatePaid:
		return receipt.Sale, true
	case queue.StateDeclined:
		return receipt.Declined, true
	case queue.StateCancelled:
		return receipt.Cancelled, true
	case queue.StateRefunded:
		return receipt.Refunded, true
	}
	return "", false
}

// renderReceipt lays r out for the lane's printer (or a generic 80 mm
// profile when the lane has none or it is not an ESC/POS driver).
func (l *lane) renderReceipt(r receipt.Receipt) []byte {
	return receipt.Render(l.profile(), r)
}

// profiler is implemented by printer drivers that know their profile.
type profiler interface{ Profile() escpos.Profile }

func (l *lane) profile() escpos.Profile {
	if p, ok := l.printer.(profiler); ok {
		return p.Profile()
	}
	p, _ := escpos.LookupProfile("generic-80")
	return p
}

// receiptText is the receipt as plain text lines (LF-separated) for the
// RESULT's receipt field, so an ECR can show or print it itself.
func receiptText(r receipt.Receipt) string {
	var b []string
	b = append(b, r.Header...)
	b = append(b, receiptTitle(r.Kind))
	add := func(label, v string) {
		if v != "" {
			b = append(b, label+": "+v)
		}
	}
	add("Lane", r.Lane)
	add("Ref", r.Ref)
	add("Item", r.Subject)
	add(totalLabel(r.Kind), receipt.FormatMoney(r.Amount, r.Currency))
	add("Alipay trans.", r.TransID)
	add("Partner trans.", r.PartnerTransID)
	add("Refund id", r.RefundID)
	add("Buyer", receipt.MaskBuyer(r.Buyer))
	if r.CNYAmount > 0 {
		add("CNY amount", receipt.FormatMoney(r.CNYAmount, "CNY"))
	}
	add("Rate", r.Rate)
	add("Reason", r.Reason)
	if !r.Time.IsZero() {
		add("Time", r.Time.Format(time.DateTime))
	}
	b = append(b, r.Footer...)
	return strings.Join(b, "\n")
}

func receiptTitle(k receipt.Kind) string {
	l := receipt.DefaultLabels()
	switch k {
	case receipt.Declined:
		return l.DeclinedTitle
	case receipt.Cancelled:
		return l.CancelledTitle
	case receipt.Refunded:
		return l.RefundedTitle
	}
	return l.SaleTitle
}

func totalLabel(k receipt.Kind) string {
	if k == receipt.Refunded {
		return "Refunded"
	}
	return "Total"
}
