package daemon

import (
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// Invariant 3 at the daemon's edge: for every journal state (sale and
// refund, with and without the cancel taken on), the ECR hears APPROVED only
// for a sale Alipay confirmed paid; DECLINED only for a definitive failure
// (or nothing sent); CANCELLED only for a confirmed cancel or when the
// daemon durably owns it (cancelling/checking, once the cancel wait is
// over); everything still being driven is PENDING. A state added to the
// journal later falls to PENDING or fails here.
func TestRedTeamEveryJournalStateMapsToASafeECRStatus(t *testing.T) {
	sale := map[queue.State][2]string{ // [queued=false, queued=true]
		queue.StateWaitingScan: {ecrproto.StatusPending, ecrproto.StatusPending},
		queue.StatePaying:      {ecrproto.StatusPending, ecrproto.StatusPending},
		queue.StateQuerying:    {ecrproto.StatusPending, ecrproto.StatusPending},
		queue.StateCancelling:  {ecrproto.StatusPending, ecrproto.StatusCancelled},
		queue.StateChecking:    {ecrproto.StatusPending, ecrproto.StatusCancelled},
		queue.StatePaid:        {ecrproto.StatusApproved, ecrproto.StatusApproved},
		queue.StateDeclined:    {ecrproto.StatusDeclined, ecrproto.StatusDeclined},
		queue.StateCancelled:   {ecrproto.StatusCancelled, ecrproto.StatusCancelled},
		queue.StateVoided:      {ecrproto.StatusDeclined, ecrproto.StatusDeclined},
		queue.StateManual:      {ecrproto.StatusManual, ecrproto.StatusManual},
	}
	refund := map[queue.State]string{
		queue.StateRefunding:      ecrproto.StatusPending,
		queue.StateRefunded:       ecrproto.StatusRefunded,
		queue.StateRefundDeclined: ecrproto.StatusDeclined,
		queue.StateManual:         ecrproto.StatusManual,
	}
	kindOf := map[queue.State][]queue.Kind{}
	for st := range sale {
		kindOf[st] = append(kindOf[st], queue.KindSale)
	}
	for st := range refund {
		kindOf[st] = append(kindOf[st], queue.KindRefund)
	}
	for _, st := range queue.States() {
		if len(kindOf[st]) == 0 {
			t.Errorf("journal state %s is mapped for neither sales nor refunds here", st)
		}
	}
	kindOf["some_future_state"] = []queue.Kind{queue.KindSale, queue.KindRefund}
	for st, kinds := range kindOf {
		for _, kind := range kinds {
			for qi, queued := range []bool{false, true} {
				op := queue.Operation{Kind: kind, Lane: "1", Ref: "r1", State: st, Amount: 1000,
					Currency: "HKD", LastCode: "SYSTEM_ERROR", AlipayTransID: "2025X",
					BuyerMasked: "**************1234", AmountCNY: "9.10", BuyerLogin: "13****1234"}
				m := resultOf(op, "r1", queued)
				var want string
				if kind == queue.KindSale {
					if w, ok := sale[st]; ok {
						want = w[qi]
					}
				} else {
					want = refund[st]
				}
				switch {
				case want == "" && m.Status != ecrproto.StatusPending:
					t.Errorf("%s in unknown state %s (queued=%v): %s; it must not look final", kind, st, queued, m.Status)
				case want != "" && m.Status != want:
					t.Errorf("%s in %s (queued=%v): %s, want %s", kind, st, queued, m.Status, want)
				}
				if m.Status == ecrproto.StatusApproved && (kind != queue.KindSale || st != queue.StatePaid) {
					t.Errorf("APPROVED for a %s in %s", kind, st)
				}
				if m.Status != ecrproto.StatusApproved && (m.AmountCNY != nil || m.PaidAt != "" || m.Buyer != "") {
					t.Errorf("%s answer for a %s in %s carries payment details", m.Status, kind, st)
				}
				if kind == queue.KindSale && (st == queue.StateCancelling || st == queue.StateChecking) &&
					queued && m.Reason != ReasonCancelQueued {
					t.Errorf("a cancel still owned by the daemon answers reason %q", m.Reason)
				}
			}
		}
	}
}

// A DECLINED sale names why: Alipay's code, VOIDED when nothing was sent,
// TRADE_CLOSED when the buyer never paid; a deadline cancel is not reported
// as the ECR's own cancel.
func TestRedTeamFinalReasonsAreHonest(t *testing.T) {
	cases := []struct {
		op     queue.Operation
		status string
		reason string
	}{
		{queue.Operation{State: queue.StateDeclined, LastCode: "BUYER_BALANCE_NOT_ENOUGH"}, ecrproto.StatusDeclined, "BUYER_BALANCE_NOT_ENOUGH"},
		{queue.Operation{State: queue.StateDeclined}, ecrproto.StatusDeclined, ReasonTradeClosed},
		{queue.Operation{State: queue.StateVoided}, ecrproto.StatusDeclined, ReasonVoided},
		{queue.Operation{State: queue.StateCancelled, CancelRequested: true}, ecrproto.StatusCancelled, ReasonECRCancel},
		{queue.Operation{State: queue.StateCancelled}, ecrproto.StatusCancelled, ReasonDeadline},
	}
	for _, tc := range cases {
		tc.op.Kind, tc.op.Lane, tc.op.Ref = queue.KindSale, "1", "r"
		m := resultOf(tc.op, "", false)
		if m.Status != tc.status || m.Reason != tc.reason {
			t.Errorf("%s: %s/%s, want %s/%s", tc.op.State, m.Status, m.Reason, tc.status, tc.reason)
		}
		if strings.Contains(m.Message, "paid") && m.Status != ecrproto.StatusApproved {
			t.Errorf("%s: message %q", tc.op.State, m.Message)
		}
	}
}
