package validate

import (
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/queue"
)

// TestCompareLedger: the ledger check catches a journal and a gateway that
// disagree — the failures a certification run exists to find.
func TestCompareLedger(t *testing.T) {
	now := time.Now()
	paidOp := queue.Operation{Kind: queue.KindSale, Ref: "S1", State: queue.StatePaid, PartnerTransID: "T1",
		AlipayTransID: "A1", Amount: 1000, Currency: "HKD"}
	refundOp := queue.Operation{Kind: queue.KindRefund, Ref: "S1-R1", State: queue.StateRefunded, PartnerTransID: "T1",
		PartnerRefundID: "T1-R1", Amount: 400, Currency: "HKD"}
	paidTrade := sandbox.Trade{PartnerTransID: "T1", AlipayTransID: "A1", Status: sandbox.StatusTradeSuccess, Amount: 1000,
		Currency: "HKD", Paid: &now, Refunded: 400, Refunds: []sandbox.Refund{{PartnerRefundID: "T1-R1", Amount: 400}}}
	declinedOp := queue.Operation{Kind: queue.KindSale, Ref: "S2", State: queue.StateDeclined, PartnerTransID: "T2"}
	for _, tc := range []struct {
		name   string
		trades map[string]sandbox.Trade
		ops    []queue.Operation
		ok     bool
	}{
		{"agree", map[string]sandbox.Trade{"T1": paidTrade}, []queue.Operation{paidOp, refundOp}, true},
		{"paid in the journal, no trade", map[string]sandbox.Trade{}, []queue.Operation{paidOp}, false},
		{"other Alipay id", map[string]sandbox.Trade{"T1": func() sandbox.Trade { x := paidTrade; x.AlipayTransID = "A9"; return x }()},
			[]queue.Operation{paidOp, refundOp}, false},
		{"refund twice at the gateway", map[string]sandbox.Trade{"T1": func() sandbox.Trade {
			x := paidTrade
			x.Refunds = append(append([]sandbox.Refund(nil), x.Refunds...), x.Refunds[0])
			x.Refunded = 800
			return x
		}()}, []queue.Operation{paidOp, refundOp}, false},
		{"declined in the journal, paid at the gateway", map[string]sandbox.Trade{"T2": {PartnerTransID: "T2",
			Status: sandbox.StatusTradeSuccess, Paid: &now, Amount: 500}}, []queue.Operation{declinedOp}, false},
		{"declined, no trade", map[string]sandbox.Trade{}, []queue.Operation{declinedOp}, true},
		{"not final", map[string]sandbox.Trade{}, []queue.Operation{{Kind: queue.KindSale, Ref: "S3",
			State: queue.StateQuerying, PartnerTransID: "T3"}}, false},
	} {
		if got := compareLedger(tc.trades, tc.ops, nil); got.OK != tc.ok {
			t.Errorf("%s: OK %v, want %v: %+v", tc.name, got.OK, tc.ok, got.Lines)
		}
	}
}
