package receipt

import (
	"fmt"

	"github.com/tillbridge/tillbridge/devices/escpos"
)

// layout writes receipt sections onto an encoder.
type layout struct {
	e    *escpos.Encoder
	cols int
}

func (w layout) lines(ls []string) {
	for _, s := range ls {
		w.e.Line(s)
	}
}

func (w layout) row(label, value string) {
	if value != "" {
		w.lines(row(label, value, w.cols))
	}
}

func (w layout) rule() { w.e.Line(rule(w.cols)) }

func (w layout) header(r Receipt) {
	if len(r.Header) == 0 {
		return
	}
	w.e.Align(escpos.AlignCenter).Bold(true).Size(2, 2)
	w.lines(wrap(r.Header[0], w.cols/2))
	w.e.Normal()
	for _, h := range r.Header[1:] {
		w.lines(wrap(h, w.cols))
	}
	w.e.LF()
}

func (w layout) title(r Receipt, l Labels) {
	w.e.Align(escpos.AlignCenter).Bold(true)
	w.lines(wrap(r.title(l), w.cols))
	if r.Copy {
		w.lines(wrap(l.Copy, w.cols))
	}
	w.e.Bold(false).Align(escpos.AlignLeft)
	w.rule()
}

func (w layout) details(r Receipt, l Labels) {
	w.row(l.Lane, r.Lane)
	w.row(l.Ref, r.Ref)
	if !r.Time.IsZero() {
		w.row(l.Time, r.Time.Format(l.TimeFormat))
	}
	w.rule()
}

func (w layout) items(r Receipt) {
	if r.Subject != "" {
		w.lines(wrap(r.Subject, w.cols))
	}
	for _, it := range r.Items {
		name := it.Name
		if it.Qty > 1 {
			name = fmt.Sprintf("%d x %s", it.Qty, it.Name)
		}
		w.row(name, FormatAmount(it.Amount, r.Currency))
	}
	if r.Subject != "" || len(r.Items) > 0 {
		w.rule()
	}
}

func (w layout) total(r Receipt, l Labels) {
	label := l.Total
	if r.Kind == Refunded {
		label = l.Refund
	}
	w.e.Bold(true).Size(1, 2)
	w.row(label, FormatMoney(r.Amount, r.Currency))
	w.e.Normal()
	if r.CNYAmount != 0 {
		w.row(l.CNY, FormatMoney(r.CNYAmount, "CNY"))
	}
	w.row(l.Rate, r.Rate)
}

func (w layout) payment(r Receipt, l Labels) {
	if r.Kind == Sale {
		w.lines(wrap(l.PaidWith, w.cols))
	}
	w.row(l.TransID, r.TransID)
	w.row(l.PartnerTransID, r.PartnerTransID)
	w.row(l.RefundID, r.RefundID)
	w.row(l.Buyer, MaskBuyer(r.Buyer))
	w.rule()
}

func (w layout) failure(r Receipt, l Labels) {
	if r.Amount != 0 {
		w.row(l.Total, FormatMoney(r.Amount, r.Currency))
	}
	w.row(l.Reason, r.Reason)
	w.row(l.TransID, r.TransID)
	note := l.DeclinedNote
	if r.Kind == Cancelled {
		note = l.CancelledNote
	}
	w.e.LF().Bold(true)
	w.lines(wrap(note, w.cols))
	w.e.Bold(false)
	w.rule()
}

// maxQR keeps the QR code printable on 58 mm paper at module size 4+.
const maxQR = 300

func (w layout) qr(r Receipt) {
	data := r.QR
	if data == "" {
		data = r.Ref
	}
	if r.NoQR || data == "" {
		return
	}
	w.e.Align(escpos.AlignCenter)
	if len(data) <= maxQR {
		size := 6
		if w.cols < 48 {
			size = 5
		}
		w.e.QR(data, escpos.QROptions{ModuleSize: size, Level: escpos.QRLevelM}).LF()
	}
	w.lines(wrap(data, w.cols))
	w.e.Align(escpos.AlignLeft)
}

func (w layout) footer(r Receipt) {
	if len(r.Footer) == 0 {
		return
	}
	w.e.LF().Align(escpos.AlignCenter)
	for _, f := range r.Footer {
		w.lines(wrap(f, w.cols))
	}
	w.e.Align(escpos.AlignLeft)
}
