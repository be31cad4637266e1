package daemon

import (
	"strings"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/preview"
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

// receiptText is the receipt as the lane prints it, as plain text lines
// (LF-separated) for the RESULT's receipt field: r laid out by
// receipt.Render for the lane's printer profile and decoded back by
// devices/preview, so an ECR that shows or prints it itself gets exactly the
// text that prints. laneID may name a lane no longer configured (a generic
// 80 mm layout then).
func (d *Daemon) receiptText(laneID string, r receipt.Receipt) string {
	l, ok := d.lanes[laneID]
	if !ok {
		l = &lane{}
	}
	p := l.profile()
	return jobText(receipt.Render(p, r), p)
}

// jobText decodes an ESC/POS receipt job printed with profile p to its
// text: p.Columns wide, QR codes as "[QR M: data]", without cut marks and
// trailing blank lines.
func jobText(job []byte, p escpos.Profile) string {
	doc := preview.Decode(job, preview.Options{Chinese: p.Encoding == escpos.GB18030})
	kept := doc.Blocks[:0]
	for _, b := range doc.Blocks {
		if b.Kind != preview.CutMark {
			kept = append(kept, b)
		}
	}
	doc.Blocks = kept
	return strings.TrimRight(preview.Text(doc, p.Columns), "\n") + "\n"
}
