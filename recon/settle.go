package recon

import (
	"fmt"

	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/recon/parse"
)

// settlements checks every record of a settlement file against the
// journals and totals fees and net settlement per currency. The file of
// day S settles movements of earlier days (weekends and holidays wait for
// the next working day), so records are looked up in the whole journal.
func (m *matcher) settlements(f *parse.SettlementFile) {
	for _, p := range f.Problems {
		m.rep.Problems = append(m.rep.Problems, p)
		m.add(Item{Class: ClassBadLine, File: f.Name, Line: p.Line, Key: fmt.Sprintf("%s:%d", f.Name, p.Line),
			Detail: p.String() + " — the settlement record could not be checked; compare by hand"})
	}
	for _, r := range f.Records {
		it := Item{Key: r.PartnerTransID, Type: r.Type, File: f.Name, Line: r.Line, AlipayTransID: r.TransactionID,
			Amount: r.Amount, Currency: r.Currency, Fee: r.Fee, Settlement: r.Settlement}
		l, want := m.settlementLocal(r)
		switch {
		case l == nil && !m.ix.ours(r.PartnerTransID) && m.ix.byAlipay(r.TransactionID) == nil:
			it.Class, it.Detail = ClassOtherTill, "not this till's id (another till of the same partner)"
		case l == nil:
			it.Class = ClassSettlementMismatch
			it.Detail = "Alipay settled a movement no journal knows: check it in the merchant portal"
		case r.Currency != l.op.Currency || r.Amount != want:
			it.Class = ClassSettlementMismatch
			it.Detail = fmt.Sprintf("settled %s %s, journal %s %s", parse.FormatMinor(r.Amount, r.Currency), r.Currency,
				parse.FormatMinor(want, l.op.Currency), l.op.Currency)
		case r.Settlement != r.Amount-r.Fee:
			it.Class = ClassSettlementMismatch
			it.Detail = fmt.Sprintf("Settlement %s is not Amount %s − Fee %s: ask Alipay support", parse.FormatMinor(r.Settlement, r.Currency),
				parse.FormatMinor(r.Amount, r.Currency), parse.FormatMinor(r.Fee, r.Currency))
		default:
			it.Class = ClassSettled
		}
		if it.Class != ClassOtherTill {
			t := m.total(r.Currency)
			t.Settled++
			t.SettlementFees += r.Fee
			if r.Type == parse.SettleRefund {
				t.SettledAmount -= r.Amount
				t.NetSettlement -= r.Settlement
			} else {
				t.SettledAmount += r.Amount
				t.NetSettlement += r.Settlement
			}
		}
		m.add(withLocal(it, l))
	}
}

// settlementLocal finds the journal operation of a settlement record and
// the amount the record should have: a payment (P), a refund (R by
// partner_refund_id), or the refund of a cancelled trade (R whose id is
// the Alipay trade id).
func (m *matcher) settlementLocal(r parse.Settlement) (*local, int64) {
	if r.Type == parse.SettlePayment {
		if l := m.ix.sales[r.PartnerTransID]; l != nil {
			return l, l.op.Amount
		}
		return nil, 0
	}
	if l := m.ix.refunds[r.PartnerTransID]; l != nil {
		return l, l.op.Amount
	}
	if r.PartnerTransID == r.TransactionID {
		if l := m.ix.byAlipay(r.TransactionID); l != nil && l.op.State == queue.StateCancelled {
			return l, r.Amount // a cancel returns what was left; the journal does not record it apart
		}
	}
	return nil, 0
}
