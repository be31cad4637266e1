package recon

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/recon/parse"
)

// Journal is the operations of one till's journal.
type Journal struct {
	// Name identifies the journal in the report (its file name).
	Name string
	// Ops are its operations (at least those of the day and the days
	// before that the files may still mention).
	Ops []queue.Operation
}

// Carry is an item of an earlier day still waiting for Alipay's file
// (an open exception marked carried).
type Carry struct {
	// ID is the exception's id in the recon database.
	ID int64
	// Day is the day it was first seen.
	Day string
	// Class, Type and Key identify what is awaited.
	Class Class
	Type  string
	Key   string
}

// Input is everything one day's reconciliation needs.
type Input struct {
	// Day is the Beijing day, YYYY-MM-DD.
	Day string
	// Transactions is the day's transaction file (required).
	Transactions *parse.TransactionFile
	// Settlements is a settlement file to check too (optional).
	Settlements *parse.SettlementFile
	// Journals are the tills' journals, reconciled together.
	Journals []Journal
	// Carried are the open carried items of earlier days.
	Carried []Carry
	// OwnPrefixes are extra partner id prefixes that belong to these tills
	// (besides "TB"/"TR" + each journal's terminal ids).
	OwnPrefixes []string
	// Now stamps the report.
	Now time.Time
}

// Result is a report plus the carried items it settled.
type Result struct {
	Report *Report
	// Found are the carried items this day's file settled (to resolve).
	Found []Carry
}

// local is one journal operation with what the files said of it.
type local struct {
	op         *queue.Operation
	journal    string
	paySeen    bool
	cancelSeen bool
	refundSeen bool
}

// index holds the journals by the keys Alipay's files use.
type index struct {
	sales     map[string]*local // partner_trans_id
	refunds   map[string]*local // partner_refund_id
	alipay    map[string]*local // alipay_trans_id of sales; built on first use (byAlipay)
	hasRefund map[string]bool   // sale id → has a refund operation (not declined)
	prefixes  []string
	all       []*local
}

func buildIndex(in *Input) *index {
	n := 0
	for _, j := range in.Journals {
		n += len(j.Ops)
	}
	ix := &index{sales: make(map[string]*local, n), refunds: map[string]*local{},
		hasRefund: map[string]bool{}, all: make([]*local, 0, n)}
	terms := map[string]bool{}
	for _, j := range in.Journals {
		for i := range j.Ops {
			o := &j.Ops[i]
			l := &local{op: o, journal: j.Name}
			ix.all = append(ix.all, l)
			// Generated ids are "TB" + terminal (letters and digits) +
			// 14-digit time + 8 random; the prefix identifies the till.
			if id := o.PartnerTransID; strings.HasPrefix(id, "TB") && len(id) > 24 {
				terms[id[2:len(id)-22]] = true
			}
			if o.Kind == queue.KindRefund {
				ix.refunds[o.PartnerRefundID] = l
				if o.State != queue.StateRefundDeclined {
					ix.hasRefund[o.ParentID] = true
				}
				continue
			}
			ix.sales[o.PartnerTransID] = l
		}
	}
	for t := range terms {
		ix.prefixes = append(ix.prefixes, "TB"+t, "TR"+t)
	}
	ix.prefixes = append(ix.prefixes, in.OwnPrefixes...)
	return ix
}

// byAlipay finds a sale by its Alipay trade id (only refunds unknown here
// and settled cancels need it, so the map is built on the first call).
func (ix *index) byAlipay(id string) *local {
	if ix.alipay == nil {
		ix.alipay = make(map[string]*local, len(ix.sales))
		for _, l := range ix.sales {
			if l.op.AlipayTransID != "" {
				ix.alipay[l.op.AlipayTransID] = l
			}
		}
	}
	return ix.alipay[id]
}

// ours reports whether a partner id looks like one of these tills' ids.
func (ix *index) ours(id string) bool {
	for _, p := range ix.prefixes {
		if p != "" && strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// approved reports whether the journal ever approved the sale.
func approved(o *queue.Operation) bool {
	return o.State == queue.StatePaid || !o.PaidAt.IsZero()
}

// Match reconciles one day: every record of the files against the
// journals, then every operation of the journals the files should have
// listed. It is pure: the caller persists the result.
func Match(in Input) (*Result, error) {
	if in.Transactions == nil {
		return nil, fmt.Errorf("recon: match %s: no transaction file", in.Day)
	}
	from, err := time.ParseInLocation(time.DateOnly, in.Day, parse.Beijing())
	if err != nil {
		return nil, fmt.Errorf("recon: match: day %q: %w", in.Day, err)
	}
	to := from.AddDate(0, 0, 1)
	ix := buildIndex(&in)
	m := &matcher{ix: ix, rep: &Report{Day: in.Day, Partner: in.Transactions.Partner, Created: in.Now,
		Counts: map[Class]int{}}, totals: map[string]*Totals{}, carried: map[string]bool{}, seenOK: map[string]bool{}}
	for _, c := range in.Carried {
		m.carried[c.Type+"|"+c.Key] = true
	}
	m.rep.Items = make([]Item, 0, len(in.Transactions.Records)+16)
	m.rep.Files = append(m.rep.Files, in.Transactions.Name)
	for _, j := range in.Journals {
		m.rep.Journals = append(m.rep.Journals, j.Name)
	}
	m.transactions(in.Transactions)
	if in.Settlements != nil {
		m.rep.Files = append(m.rep.Files, in.Settlements.Name)
		m.settlements(in.Settlements)
	}
	if len(in.Journals) > 1 {
		m.duplicates() // within one journal (lane, ref) is unique: UNIQUE(lane, kind, ref)
	}
	m.expected(from, to)
	res := &Result{Report: m.rep}
	for _, c := range in.Carried {
		if m.seenOK[c.Type+"|"+c.Key] {
			res.Found = append(res.Found, c)
			m.add(Item{Class: ClassLateMatched, Key: c.Key, Type: c.Type,
				Detail: fmt.Sprintf("carried over from %s (%s); found in this day's file", c.Day, c.Class)})
		}
	}
	m.finish()
	return res, nil
}

// matcher accumulates one day's report.
type matcher struct {
	ix      *index
	rep     *Report
	totals  map[string]*Totals
	carried map[string]bool // Type|Key of the carried items
	seenOK  map[string]bool // Type|Key of carried items whose record agreed
}

func (m *matcher) total(cur string) *Totals {
	t := m.totals[cur]
	if t == nil {
		t = &Totals{Currency: cur}
		m.totals[cur] = t
	}
	return t
}

func (m *matcher) add(it Item) {
	m.rep.Items = append(m.rep.Items, it)
}

// ok notes a record that agreed, when a carried item waits for it.
func (m *matcher) ok(typ, key string) {
	if len(m.carried) > 0 && m.carried[typ+"|"+key] {
		m.seenOK[typ+"|"+key] = true
	}
}

// withLocal copies the operation's fields into the item.
func withLocal(it Item, l *local) Item {
	if l == nil {
		return it
	}
	it.Journal, it.OpID, it.Lane, it.Ref, it.State = l.journal, l.op.ID, l.op.Lane, l.op.Ref, string(l.op.State)
	it.LocalAmount, it.LocalCurrency = l.op.Amount, l.op.Currency
	return it
}

func fileItem(f, typ string, r parse.Transaction) Item {
	return Item{Key: r.PartnerTransID, Type: typ, File: f, Line: r.Line, AlipayTransID: r.TransactionID,
		Amount: r.Amount, Currency: r.Currency, Fee: r.Fee}
}

// transactions checks every record of the transaction file.
func (m *matcher) transactions(f *parse.TransactionFile) {
	for _, p := range f.Problems {
		m.rep.Problems = append(m.rep.Problems, p)
		m.add(Item{Class: ClassBadLine, File: f.Name, Line: p.Line, Key: fmt.Sprintf("%s:%d", f.Name, p.Line),
			Detail: p.String() + " — the record could not be checked; open the file at this line and compare by hand"})
	}
	cancels := map[string]bool{}
	for _, r := range f.Records {
		if r.Type == parse.TypeCancel || r.Type == parse.TypeReversal {
			cancels[r.PartnerTransID] = true
		}
	}
	unknownPaid := map[string]bool{} // payments of ids no journal knows
	for _, r := range f.Records {
		it := fileItem(f.Name, r.Type, r)
		var l *local
		switch r.Type {
		case parse.TypePayment:
			l = m.ix.sales[r.PartnerTransID]
			dup := l != nil && l.paySeen
			if l == nil {
				dup = unknownPaid[r.PartnerTransID]
				unknownPaid[r.PartnerTransID] = true
			}
			if dup {
				it.Class = ClassDuplicatePayment
				it.Detail = "Alipay lists this partner_trans_id paid more than once: refund the extra payment in the merchant portal"
			} else {
				it.Class, it.Detail = m.payment(r, l, cancels[r.PartnerTransID])
			}
		case parse.TypeCancel, parse.TypeReversal:
			l = m.ix.sales[r.PartnerTransID]
			it.Class, it.Detail = m.cancel(r, l)
		case parse.TypeRefund:
			l = m.ix.refunds[r.PartnerTransID]
			it.Class, it.Detail = m.refund(r, l)
		}
		if it.Class == ClassMatched || it.Class == ClassCancelled {
			m.ok(r.Type, r.PartnerTransID)
		}
		m.count(r, it.Class)
		m.add(withLocal(it, l))
	}
}

// count adds a file record to the totals of its currency.
func (m *matcher) count(r parse.Transaction, c Class) {
	t := m.total(r.Currency)
	sign := int64(1)
	if r.Type != parse.TypePayment {
		sign = -1
	}
	if c == ClassOtherTill {
		t.OtherTillRecs++
		t.OtherTillNet += sign*r.Amount - r.Fee
		return
	}
	switch r.Type {
	case parse.TypePayment:
		t.Payments++
		t.PaymentSum += r.Amount
	case parse.TypeRefund:
		t.Refunds++
		t.RefundSum += r.Amount
	default:
		t.Cancels++
		t.CancelSum += r.Amount
	}
	t.Fees += r.Fee
	t.Net += sign*r.Amount - r.Fee
}

func (m *matcher) payment(r parse.Transaction, l *local, cancelled bool) (Class, string) {
	if l == nil {
		if !m.ix.ours(r.PartnerTransID) {
			return ClassOtherTill, "not this till's partner_trans_id (another till of the same partner)"
		}
		if cancelled {
			return ClassCancelled, "paid and cancelled at Alipay, unknown in the journals: no money kept"
		}
		return ClassPaidNotApproved, "Alipay took this payment but no journal knows the sale: the customer paid without a ticket. " +
			"Find the customer/till (Operator_name, time), then give the ticket or refund in the merchant portal"
	}
	l.paySeen = true
	o := l.op
	if approved(o) {
		if r.Amount != o.Amount || r.Currency != o.Currency {
			return ClassAmountMismatch, fmt.Sprintf("Alipay %s %s, journal %s %s: check the trade in the merchant portal and escalate to Alipay support",
				parse.FormatMinor(r.Amount, r.Currency), r.Currency, parse.FormatMinor(o.Amount, o.Currency), o.Currency)
		}
		return ClassMatched, ""
	}
	if cancelled || o.State == queue.StateCancelled && m.ix.hasRefund[o.ID] {
		return ClassCancelled, "paid at Alipay, then cancelled: the journal never approved it and no money was kept"
	}
	what := "the journal says " + string(o.State)
	if !o.State.Final() {
		what += " (the engine is still working on it: check 'tillbridge queue show " + o.ID + "')"
	}
	return ClassPaidNotApproved, "Alipay took this payment but the till never approved it (" + what +
		"): the customer paid without a ticket. Refund it (or give the ticket), then resolve"
}

func (m *matcher) cancel(r parse.Transaction, l *local) (Class, string) {
	if l == nil {
		if !m.ix.ours(r.PartnerTransID) {
			return ClassOtherTill, "not this till's partner_trans_id (another till of the same partner)"
		}
		return ClassCancelled, "cancelled at Alipay, unknown in the journals"
	}
	l.cancelSeen = true
	if l.op.State == queue.StateCancelled || l.op.State == queue.StateDeclined || l.op.State == queue.StateVoided {
		return ClassCancelled, ""
	}
	did := "cancelled"
	if r.Type == parse.TypeReversal {
		did = "reversed"
	}
	return ClassCancelMismatch, fmt.Sprintf("Alipay %s this trade (the customer got the money back) but the journal says %s: void the ticket, then resolve",
		did, l.op.State)
}

func (m *matcher) refund(r parse.Transaction, l *local) (Class, string) {
	if l == nil {
		if sale := m.ix.byAlipay(r.TransactionID); sale != nil || m.ix.ours(r.PartnerTransID) {
			return ClassRefundMismatch, "Alipay made this refund but no journal knows it (refunded from the merchant portal?): check who refunded and why"
		}
		return ClassOtherTill, "not this till's partner_refund_id (another till of the same partner)"
	}
	l.refundSeen = true
	o := l.op
	if o.State != queue.StateRefunded {
		return ClassRefundMismatch, fmt.Sprintf("Alipay made this refund but the journal says %s: resolve the refund as refunded", o.State)
	}
	if r.Amount != o.Amount || r.Currency != o.Currency {
		return ClassRefundMismatch, fmt.Sprintf("Alipay refunded %s %s, journal %s %s: check in the merchant portal",
			parse.FormatMinor(r.Amount, r.Currency), r.Currency, parse.FormatMinor(o.Amount, o.Currency), o.Currency)
	}
	return ClassMatched, ""
}

// duplicates flags one ECR sale (lane or terminal, ref) paid under more
// than one partner_trans_id — possible across journals of one till (a
// reinstalled till that reused its refs) or when a ref is reused.
func (m *matcher) duplicates() {
	type sale struct{ terminal, lane, ref string }
	seen := make(map[sale]*local, len(m.ix.sales))
	for _, l := range m.ix.all {
		if l.op.Kind != queue.KindSale || !l.paySeen {
			continue
		}
		k := sale{l.op.Terminal, l.op.Lane, l.op.Ref}
		first := seen[k]
		if first == nil {
			seen[k] = l
			continue
		}
		m.add(withLocal(Item{Class: ClassDuplicatePayment, Key: l.op.PartnerTransID, Type: parse.TypePayment,
			Amount: l.op.Amount, Currency: l.op.Currency,
			Detail: fmt.Sprintf("ECR sale %s (lane %s) is paid at Alipay twice: %s (%s) and this one; refund one of them",
				l.op.Ref, l.op.Lane, first.op.PartnerTransID, first.journal)}, l))
	}
}

// expected lists what the journals say happened on the day and the file
// did not show; and operations still pending.
func (m *matcher) expected(from, to time.Time) {
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }
	for _, l := range m.ix.all {
		o := l.op
		t := m.total(o.Currency)
		switch {
		case o.Kind == queue.KindSale && approved(o) && in(o.PaidAt):
			t.JournalPayments++
			t.JournalPaymentSum += o.Amount
			if !l.paySeen {
				m.add(withLocal(Item{Class: ClassMissingAtAlipay, Key: o.PartnerTransID, Type: parse.TypePayment, Carried: true,
					Detail: "approved here (ticket given) but not in Alipay's file of the day: re-checked against the next days' files; " +
						"if still missing, query the trade in the merchant portal"}, l))
			}
			if o.State == queue.StateCancelled && !m.ix.hasRefund[o.ID] && in(o.FinalAt) {
				m.expectCancel(l, t)
			}
		case o.Kind == queue.KindSale && o.State == queue.StateCancelled && approved(o) && !m.ix.hasRefund[o.ID] && in(o.FinalAt):
			m.expectCancel(l, t)
		case o.Kind == queue.KindRefund && o.State == queue.StateRefunded && in(o.FinalAt):
			t.JournalRefunds++
			t.JournalRefundSum += o.Amount
			if !l.refundSeen {
				m.add(withLocal(Item{Class: ClassRefundMismatch, Key: o.PartnerRefundID, Type: parse.TypeRefund, Carried: true,
					Detail: "refunded here but not in Alipay's file of the day: re-checked against the next days' files"}, l))
			}
		case !o.State.Final() && o.State != queue.StateWaitingScan && (in(o.CreatedAt) || in(o.UpdatedAt)):
			m.add(withLocal(Item{Class: ClassPendingHere, Key: keyOf(o), Type: typeOf(o),
				Detail: "still being worked on by the engine: see 'tillbridge queue show " + o.ID + "'"}, l))
		}
	}
}

func (m *matcher) expectCancel(l *local, t *Totals) {
	t.JournalCancels++
	t.JournalCancelSum += l.op.Amount
	if !l.cancelSeen {
		m.add(withLocal(Item{Class: ClassCancelMismatch, Key: l.op.PartnerTransID, Type: parse.TypeCancel, Carried: true,
			Detail: "a paid sale cancelled here but no CANCEL in Alipay's file of the day: re-checked against the next days' files"}, l))
	}
}

func keyOf(o *queue.Operation) string {
	if o.Kind == queue.KindRefund {
		return o.PartnerRefundID
	}
	return o.PartnerTransID
}

func typeOf(o *queue.Operation) string {
	if o.Kind == queue.KindRefund {
		return parse.TypeRefund
	}
	return parse.TypePayment
}

// finish counts the classes and sorts the totals.
func (m *matcher) finish() {
	for _, it := range m.rep.Items {
		m.rep.Counts[it.Class]++
		if it.Class.Exception() {
			m.rep.Exceptions++
		}
	}
	for _, t := range m.totals {
		if *t == (Totals{Currency: t.Currency}) {
			continue
		}
		m.rep.Totals = append(m.rep.Totals, *t)
	}
	sort.Slice(m.rep.Totals, func(i, j int) bool { return m.rep.Totals[i].Currency < m.rep.Totals[j].Currency })
}
