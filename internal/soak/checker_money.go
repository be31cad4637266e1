package soak

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// checkTotals sums, per currency, what the gateway kept, what the journal
// says was kept and what the ECRs were told was kept; the three must be
// equal. Sales in MANUAL (and their trades and refunds) are left out.
func (ix *index) checkTotals() ([]Total, CheckResult) {
	tot := map[string]*Total{}
	get := func(cur string) *Total {
		if tot[cur] == nil {
			tot[cur] = &Total{Currency: cur}
		}
		return tot[cur]
	}
	manual := map[string]bool{} // sale keys in MANUAL
	for k, o := range ix.saleByKey {
		if o.State == string(queue.StateManual) {
			manual[k] = true
			get(o.Currency).Manual++
			continue
		}
		get(o.Currency).Journal += ix.journalKept(o)
	}
	for _, t := range ix.src.Trades {
		if o, ok := ix.saleByPTID[t.PartnerTransID]; ok && manual[key(o.Lane, o.Ref)] {
			continue
		}
		get(t.Currency).Gateway += t.kept()
	}
	ix.addToldTotals(get, manual)
	res := CheckResult{Name: CheckTotals}
	out := make([]Total, 0, len(tot))
	for _, cur := range slices.Sorted(maps.Keys(tot)) {
		t := *tot[cur]
		out = append(out, t)
		res.Count++
		if t.Gateway != t.Journal || t.Journal != t.ECR {
			res.Violations = append(res.Violations, fmt.Sprintf("%s: gateway kept %d, journal %d, ECRs told %d", cur, t.Gateway, t.Journal, t.ECR))
		}
	}
	return out, res
}

// addToldTotals adds what the ECRs were finally told: APPROVED sales less
// their REFUNDED refunds.
func (ix *index) addToldTotals(get func(string) *Total, manual map[string]bool) {
	for k, t := range ix.toldSale {
		if !manual[k] && t.Final == ecrproto.StatusApproved {
			get(t.Currency).ECR += t.Amount
		}
	}
	for _, t := range ix.toldRefund {
		sk := key(t.Lane, t.SaleRef)
		if !manual[sk] && t.Final == ecrproto.StatusRefunded && ix.toldSale[sk].Final == ecrproto.StatusApproved {
			get(t.Currency).ECR -= t.Amount
		}
	}
}

// checkRefunds: a refund is refunded in the journal exactly when the
// gateway holds it, with the same amount; the ECR heard REFUNDED only for
// those, and DECLINED only for refunds the gateway does not hold.
func (ix *index) checkRefunds() CheckResult {
	res := CheckResult{Name: CheckRefunds}
	for _, o := range ix.src.Ops {
		if o.Kind != string(queue.KindRefund) {
			continue
		}
		res.Count++
		if p := ix.refundProblem(o); p != "" {
			res.Violations = append(res.Violations, fmt.Sprintf("refund %s (%s): %s", key(o.Lane, o.Ref), o.PartnerRefundID, p))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(ix.gwRefund)) {
		if _, ok := ix.refundByPRID[id]; !ok {
			r := ix.gwRefund[id]
			res.Violations = append(res.Violations, fmt.Sprintf("gateway refund %s of trade %s (%d %s) is not in the journal", id, r.trade, r.Amount, r.Currency))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ix.toldRefund)) {
		if p := ix.toldRefundProblem(ix.toldRefund[k]); p != "" {
			res.Violations = append(res.Violations, fmt.Sprintf("refund %s: %s", k, p))
		}
	}
	return res
}

// refundProblem compares a journal refund with the gateway.
func (ix *index) refundProblem(o Op) string {
	gw, atGateway := ix.gwRefund[o.PartnerRefundID]
	switch o.State {
	case string(queue.StateRefunded):
		if !atGateway {
			return "refunded in the journal, unknown at the gateway"
		}
		if gw.Amount != o.Amount || gw.Currency != o.Currency {
			return fmt.Sprintf("journal %d %s, gateway %d %s", o.Amount, o.Currency, gw.Amount, gw.Currency)
		}
	case string(queue.StateManual):
	default:
		if atGateway {
			return "refunded at the gateway, but the journal says " + o.State
		}
	}
	return ""
}

// toldRefundProblem compares what an ECR heard about a refund with the
// journal and the gateway.
func (ix *index) toldRefundProblem(t Told) string {
	o, ok := ix.refundByKey[key(t.Lane, t.Ref)]
	_, atGateway := ix.gwRefund[o.PartnerRefundID]
	heardRefunded := t.Final == ecrproto.StatusRefunded || contains(t.Heard, ecrproto.StatusRefunded)
	switch {
	case heardRefunded && !ok:
		return "the ECR heard REFUNDED, but the journal has no such refund"
	case heardRefunded && !atGateway:
		return "the ECR heard REFUNDED, but the gateway has no refund " + o.PartnerRefundID
	case ok && atGateway && (t.Final == ecrproto.StatusDeclined || contains(t.Heard, ecrproto.StatusDeclined)):
		return "the ECR heard DECLINED, but the gateway refunded"
	case ok && o.State == string(queue.StateRefunded) && t.Final != ecrproto.StatusRefunded:
		return fmt.Sprintf("refunded, but the ECR's last answer is %q", t.Final)
	}
	return ""
}
