package validate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/devices/preview"
	"github.com/tillbridge/tillbridge/queue"
)

// maxReceiptBytes bounds the printer output read back for the preview.
const maxReceiptBytes = 256 << 10

// ledgerCheck compares the sandbox's ledger with the journal's operations:
// a paid sale is one TRADE_SUCCESS trade with the same Alipay id and
// amount; a sale that did not pay has no trade or a closed one; every
// confirmed refund is in the trade's refunds, once.
func (c *caseRun) ledgerCheck(ctx context.Context, ops []queue.Operation) LedgerCheck {
	trades, ok, err := c.e.ledger(ctx)
	if !ok {
		return LedgerCheck{}
	}
	return compareLedger(trades, ops, err)
}

// compareLedger is ledgerCheck on a ledger already read (err: why it
// could not be).
func compareLedger(trades map[string]sandbox.Trade, ops []queue.Operation, err error) LedgerCheck {
	lc := LedgerCheck{Available: true, OK: true}
	add := func(name string, good bool, format string, args ...any) {
		lc.Lines = append(lc.Lines, Check{Name: name, OK: good, Detail: fmt.Sprintf(format, args...)})
		lc.OK = lc.OK && good
	}
	if err != nil {
		add("ledger readable", false, "%v", err)
		return lc
	}
	refunded := map[string]int64{}
	for _, op := range ops {
		if op.Kind == queue.KindRefund && op.State == queue.StateRefunded {
			refunded[op.PartnerTransID] += op.Amount
		}
	}
	for _, op := range ops {
		tr, found := trades[op.PartnerTransID]
		switch {
		case op.Kind == queue.KindRefund:
			checkRefund(add, op, tr, found)
		case op.State == queue.StatePaid:
			add(op.Ref+" paid", found && tr.Status == sandbox.StatusTradeSuccess || found && tr.Status == sandbox.StatusTradeClosed && tr.ClosedBy == "refund",
				"journal paid %d %s, Alipay id %s; ledger %s", op.Amount, op.Currency, op.AlipayTransID, tradeLine(tr, found))
			add(op.Ref+" same trade", found && tr.AlipayTransID == op.AlipayTransID && tr.Amount == op.Amount && tr.Currency == op.Currency,
				"journal %s %d %s; ledger %s", op.AlipayTransID, op.Amount, op.Currency, tradeLine(tr, found))
			add(op.Ref+" refunded sum", found && tr.Refunded == refunded[op.PartnerTransID],
				"journal refunded %d; ledger refunded %d", refunded[op.PartnerTransID], tr.Refunded)
		case op.State.Final():
			add(op.Ref+" not charged", !found || tr.Status == sandbox.StatusTradeClosed,
				"journal %s; ledger %s", op.State, tradeLine(tr, found))
			if found && tr.Paid != nil {
				add(op.Ref+" money returned", tr.Refunded == tr.Amount,
					"the trade was paid and then %s; refunded %d of %d", tr.ClosedBy, tr.Refunded, tr.Amount)
			}
		default:
			add(op.Ref+" final", false, "journal still %s", op.State)
		}
	}
	return lc
}

func checkRefund(add func(string, bool, string, ...any), op queue.Operation, tr sandbox.Trade, found bool) {
	n := 0
	for _, r := range tr.Refunds {
		if r.PartnerRefundID == op.PartnerRefundID {
			n++
		}
	}
	switch op.State {
	case queue.StateRefunded:
		add(op.Ref+" refund once", found && n == 1, "journal refunded %d %s as %s; ledger has it %d time(s)",
			op.Amount, op.Currency, op.PartnerRefundID, n)
	default:
		add(op.Ref+" refund absent", n == 0, "journal %s; ledger has it %d time(s)", op.State, n)
	}
}

func tradeLine(tr sandbox.Trade, found bool) string {
	if !found {
		return "no trade"
	}
	s := fmt.Sprintf("%s %s %d %s", tr.AlipayTransID, tr.Status, tr.Amount, tr.Currency)
	if tr.ClosedBy != "" {
		s += " closed by " + tr.ClosedBy
	}
	if tr.Refunded > 0 {
		s += fmt.Sprintf(", refunded %d", tr.Refunded)
	}
	return s
}

// receipt returns what the case printed last: the ESC/POS bytes the lane's
// file printer received since the case started, or else the text of the
// last RESULT's receipt, rendered with devices/preview.
func (c *caseRun) receipt() *Receipt {
	path, width := c.e.printerFile(c.lane)
	if path != "" {
		if job := readFrom(path, c.printed); len(job) > 0 {
			doc := lastReceipt(preview.Decode(job, preview.Options{}))
			return &Receipt{Text: preview.Text(doc, cols(width)), PNG: renderPNG(doc, width), Source: "printer"}
		}
	}
	if c.lastRcpt == "" {
		return nil
	}
	doc := preview.Decode([]byte(strings.ReplaceAll(c.lastRcpt, "\n", "\r\n")+"\n"), preview.Options{})
	return &Receipt{Text: c.lastRcpt, PNG: renderPNG(doc, 80), Source: "result"}
}

// lastReceipt keeps the last receipt of several printed: the blocks after
// the last cut that is not the document's final block.
func lastReceipt(doc preview.Document) preview.Document {
	end := len(doc.Blocks)
	for end > 0 && doc.Blocks[end-1].Kind == preview.CutMark {
		end--
	}
	start := 0
	for i := end - 1; i >= 0; i-- {
		if doc.Blocks[i].Kind == preview.CutMark {
			start = i + 1
			break
		}
	}
	doc.Blocks = doc.Blocks[start:]
	return doc
}

func readFrom(path string, off int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, maxReceiptBytes))
	return b
}

func cols(widthMM int) int {
	if widthMM == 58 {
		return 32
	}
	return 48
}

func renderPNG(doc preview.Document, widthMM int) []byte {
	dots := 576
	if widthMM == 58 {
		dots = 384
	}
	var buf bytes.Buffer
	if err := preview.WritePNG(&buf, doc, preview.RenderOptions{WidthDots: dots, MaxHeight: 4000}); err != nil {
		return nil
	}
	return buf.Bytes()
}
