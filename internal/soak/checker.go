package soak

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// Check names, in the order of the table.
const (
	CheckPaidNotApproved = "paid at gateway, not approved/cancelled locally"
	CheckApprovedUnpaid  = "approved without a paid trade"
	CheckTwoTrades       = "refs with two trades (or a trade of no ref)"
	CheckFinal           = "every operation final (or MANUAL with reason)"
	CheckTotals          = "totals per currency equal"
	CheckRefunds         = "refunds agree"
	CheckErrors          = "no unexpected ERROR answers"
)

// CheckResult is one row of the checker's table: how many items the rule
// looked at, and each violation found.
type CheckResult struct {
	Name       string   `json:"name"`
	Count      int      `json:"count"`
	Violations []string `json:"violations"`
}

// Total is the money of one currency as each source sees it, in minor
// units: what the gateway kept, what the journal says was kept, what the
// ECRs were told was kept. Operations in MANUAL are left out of all three
// (Manual counts them).
type Total struct {
	Currency string `json:"currency"`
	Gateway  int64  `json:"gateway"`
	Journal  int64  `json:"journal"`
	ECR      int64  `json:"ecr"`
	Manual   int    `json:"manual"`
}

// Verdict is the checker's result.
type Verdict struct {
	Checks []CheckResult `json:"checks"`
	Totals []Total       `json:"totals"`
}

// Passed and Failed count the checks without and with violations.
func (v Verdict) Passed() int { return len(v.Checks) - v.Failed() }

// Failed counts the checks with violations.
func (v Verdict) Failed() int {
	n := 0
	for _, c := range v.Checks {
		if len(c.Violations) > 0 {
			n++
		}
	}
	return n
}

// index holds the three sources keyed for the rules.
type index struct {
	src          Sources
	saleByKey    map[string]Op       // lane/ref → sale
	saleByPTID   map[string]Op       // partner_trans_id → sale
	refundsOf    map[string][]Op     // sale op id → its refunds
	refundByPRID map[string]Op       // partner_refund_id → refund
	refundByKey  map[string]Op       // lane/refund_ref → refund
	tradeByPTID  map[string]Trade    // partner_trans_id → trade
	toldSale     map[string]Told     // lane/ref → told
	toldRefund   map[string]Told     // lane/refund_ref → told
	gwRefund     map[string]refundAt // partner_refund_id → gateway refund
}

// refundAt is a gateway refund and the trade it belongs to.
type refundAt struct {
	TradeRefund
	trade string
}

func newIndex(src Sources) *index {
	ix := &index{src: src, saleByKey: map[string]Op{}, saleByPTID: map[string]Op{},
		refundsOf: map[string][]Op{}, refundByPRID: map[string]Op{}, refundByKey: map[string]Op{}, tradeByPTID: map[string]Trade{},
		toldSale: map[string]Told{}, toldRefund: map[string]Told{}, gwRefund: map[string]refundAt{}}
	for _, o := range src.Ops {
		if o.Kind == string(queue.KindRefund) {
			ix.refundsOf[o.ParentID] = append(ix.refundsOf[o.ParentID], o)
			ix.refundByPRID[o.PartnerRefundID] = o
			ix.refundByKey[key(o.Lane, o.Ref)] = o
			continue
		}
		ix.saleByKey[key(o.Lane, o.Ref)] = o
		ix.saleByPTID[o.PartnerTransID] = o
	}
	for _, t := range src.Trades {
		ix.tradeByPTID[t.PartnerTransID] = t
		for _, r := range t.Refunds {
			ix.gwRefund[r.PartnerRefundID] = refundAt{r, t.PartnerTransID}
		}
	}
	for _, t := range src.Told {
		if t.Kind == string(queue.KindRefund) {
			ix.toldRefund[key(t.Lane, t.Ref)] = t
		} else {
			ix.toldSale[key(t.Lane, t.Ref)] = t
		}
	}
	return ix
}

// Check applies the money-safety rules to the three sources. It is a pure
// function: the same sources give the same verdict.
func Check(src Sources) Verdict {
	ix := newIndex(src)
	v := Verdict{Checks: []CheckResult{
		ix.checkPaidNotApproved(),
		ix.checkApprovedUnpaid(),
		ix.checkTwoTrades(),
		ix.checkFinal(),
	}}
	totals, res := ix.checkTotals()
	v.Totals = totals
	v.Checks = append(v.Checks, res, ix.checkRefunds(),
		CheckResult{Name: CheckErrors, Count: src.Requests, Violations: src.Errors})
	for i := range v.Checks {
		slices.Sort(v.Checks[i].Violations)
	}
	return v
}

// journalKept is what the journal says the gateway keeps of sale o: the
// amount of a paid sale less its confirmed refunds, nothing otherwise.
func (ix *index) journalKept(o Op) int64 {
	if o.State != string(queue.StatePaid) {
		return 0
	}
	kept := o.Amount
	for _, r := range ix.refundsOf[o.ID] {
		if r.State == string(queue.StateRefunded) {
			kept -= r.Amount
		}
	}
	return kept
}

// checkPaidNotApproved: every trade the buyer paid is paid or cancelled in
// the journal, with the money the gateway kept; its ECR never heard
// DECLINED and finally heard what the journal says.
func (ix *index) checkPaidNotApproved() CheckResult {
	res := CheckResult{Name: CheckPaidNotApproved}
	for _, t := range ix.src.Trades {
		if t.Paid == nil {
			continue
		}
		res.Count++
		o, ok := ix.saleByPTID[t.PartnerTransID]
		if !ok {
			res.Violations = append(res.Violations, fmt.Sprintf("trade %s (%d %s, %q) paid at the gateway; the journal has no sale for it",
				t.PartnerTransID, t.Amount, t.Currency, t.TransName))
			continue
		}
		res.Violations = append(res.Violations, ix.paidTradeProblems(t, o)...)
	}
	return res
}

func (ix *index) paidTradeProblems(t Trade, o Op) []string {
	var out []string
	at := fmt.Sprintf("%s (trade %s)", key(o.Lane, o.Ref), t.PartnerTransID)
	switch o.State {
	case string(queue.StatePaid), string(queue.StateCancelled):
		if kept := ix.journalKept(o); kept != t.kept() {
			out = append(out, fmt.Sprintf("%s: the gateway keeps %d %s, the journal (%s) says %d", at, t.kept(), t.Currency, o.State, kept))
		}
	case string(queue.StateManual):
	default:
		out = append(out, fmt.Sprintf("%s: paid at the gateway, but the journal says %s", at, o.State))
	}
	told, ok := ix.toldSale[key(o.Lane, o.Ref)]
	if !ok {
		return out
	}
	for _, h := range told.Heard {
		if h == ecrproto.StatusDeclined {
			out = append(out, fmt.Sprintf("%s: the ECR heard DECLINED, but the buyer paid", at))
			break
		}
	}
	want := map[string]string{string(queue.StatePaid): ecrproto.StatusApproved,
		string(queue.StateCancelled): ecrproto.StatusCancelled, string(queue.StateManual): ecrproto.StatusManual}[o.State]
	if told.Final != want {
		out = append(out, fmt.Sprintf("%s: paid at the gateway, journal %s, but the ECR's last answer is %q", at, o.State, told.Final))
	}
	return out
}

// checkApprovedUnpaid: every sale the ECR heard APPROVED for, or the
// journal holds as paid, has a trade the buyer paid.
func (ix *index) checkApprovedUnpaid() CheckResult {
	res := CheckResult{Name: CheckApprovedUnpaid}
	approved := map[string]string{} // key → who says so
	for k, t := range ix.toldSale {
		if t.Final == ecrproto.StatusApproved || contains(t.Heard, ecrproto.StatusApproved) {
			approved[k] = "the ECR heard APPROVED"
		}
	}
	for k, o := range ix.saleByKey {
		if o.State == string(queue.StatePaid) {
			approved[k] = "the journal says paid"
		}
	}
	for _, k := range slices.Sorted(maps.Keys(approved)) {
		res.Count++
		o, ok := ix.saleByKey[k]
		if !ok {
			res.Violations = append(res.Violations, fmt.Sprintf("%s: %s, but the journal has no such sale", k, approved[k]))
			continue
		}
		t, ok := ix.tradeByPTID[o.PartnerTransID]
		switch {
		case !ok:
			res.Violations = append(res.Violations, fmt.Sprintf("%s: %s, but the gateway has no trade %s", k, approved[k], o.PartnerTransID))
		case t.Paid == nil:
			res.Violations = append(res.Violations, fmt.Sprintf("%s: %s, but trade %s was never paid (%s)", k, approved[k], t.PartnerTransID, t.Status))
		}
	}
	return res
}

// checkTwoTrades: every trade belongs to one ref (by the journal, else by
// its subject), and no ref has two.
func (ix *index) checkTwoTrades() CheckResult {
	res := CheckResult{Name: CheckTwoTrades}
	byRef := map[string][]string{}
	for _, t := range ix.src.Trades {
		res.Count++
		if o, ok := ix.saleByPTID[t.PartnerTransID]; ok {
			byRef[key(o.Lane, o.Ref)] = append(byRef[key(o.Lane, o.Ref)], t.PartnerTransID)
			continue
		}
		k := parseSubject(t.TransName)
		if k == "" {
			res.Violations = append(res.Violations, fmt.Sprintf("trade %s (%q) belongs to no ref", t.PartnerTransID, t.TransName))
			continue
		}
		res.Violations = append(res.Violations, fmt.Sprintf("trade %s of %s is not in the journal", t.PartnerTransID, k))
		byRef[k] = append(byRef[k], t.PartnerTransID)
	}
	for _, k := range slices.Sorted(maps.Keys(byRef)) {
		if ids := byRef[k]; len(ids) > 1 {
			res.Violations = append(res.Violations, fmt.Sprintf("%s has %d trades: %v", k, len(ids), ids))
		}
	}
	return res
}

// checkFinal: every journal operation is final, MANUAL ones have a reason,
// and every ref's closing STATUS gave a final answer.
func (ix *index) checkFinal() CheckResult {
	res := CheckResult{Name: CheckFinal}
	for _, o := range ix.src.Ops {
		res.Count++
		switch {
		case !queue.State(o.State).Final():
			res.Violations = append(res.Violations, fmt.Sprintf("%s %s (%s) is still %s", o.Kind, key(o.Lane, o.Ref), o.ID, o.State))
		case o.State == string(queue.StateManual) && o.Reason == "":
			res.Violations = append(res.Violations, fmt.Sprintf("%s %s (%s) is MANUAL without a reason", o.Kind, key(o.Lane, o.Ref), o.ID))
		}
	}
	for _, t := range ix.src.Told {
		res.Count++
		if p := toldProblem(t, ix.recorded(t)); p != "" {
			res.Violations = append(res.Violations, fmt.Sprintf("%s %s: %s", t.Kind, key(t.Lane, t.Ref), p))
		}
	}
	return res
}

// recorded reports whether the journal holds the told ref.
func (ix *index) recorded(t Told) bool {
	if t.Kind == string(queue.KindRefund) {
		_, ok := ix.refundByKey[key(t.Lane, t.Ref)]
		return ok
	}
	_, ok := ix.saleByKey[key(t.Lane, t.Ref)]
	return ok
}

// toldProblem says what is wrong with a ref's closing answer, or "".
// A ref the journal never recorded (the driver stopped before its request
// got in) may end without a money answer.
func toldProblem(t Told, recorded bool) string {
	switch t.Final {
	case ecrproto.StatusApproved, ecrproto.StatusDeclined, ecrproto.StatusCancelled, ecrproto.StatusRefunded:
		return ""
	case ecrproto.StatusManual:
		if t.Reason == "" {
			return "MANUAL without a reason"
		}
		return ""
	case "":
		return "no answer to the closing STATUS"
	case ecrproto.StatusPending:
		return "still PENDING at the closing STATUS"
	}
	if !recorded && len(t.Heard) == 0 {
		return ""
	}
	return "closing STATUS answered " + t.Final
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
