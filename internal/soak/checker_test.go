package soak

import (
	"strings"
	"testing"
	"time"
)

// world is a consistent set of sources: every rule passes on it.
func world() Sources {
	paid := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return Sources{
		Trades: []Trade{
			{PartnerTransID: "T-A", Status: "TRADE_SUCCESS", Amount: 1000, Currency: "HKD", TransName: Subject("x", "1", "A"), Paid: &paid},
			{PartnerTransID: "T-B", Status: "TRADE_CLOSED", Amount: 2000, Currency: "HKD", TransName: Subject("x", "1", "B"), ClosedBy: "declined"},
			{PartnerTransID: "T-C", Status: "TRADE_SUCCESS", Amount: 500, Currency: "JPY", TransName: Subject("x", "2", "C"), Paid: &paid,
				Refunded: 200, Refunds: []TradeRefund{{PartnerRefundID: "P-C", Amount: 200, Currency: "JPY"}}},
			{PartnerTransID: "T-D", Status: "TRADE_CLOSED", Amount: 700, Currency: "HKD", TransName: Subject("x", "2", "D"), Paid: &paid,
				ClosedBy: "cancel", CancelAction: "refund", Refunded: 700},
			{PartnerTransID: "T-F", Status: "TRADE_SUCCESS", Amount: 900, Currency: "HKD", TransName: Subject("x", "3", "F"), Paid: &paid},
		},
		Ops: []Op{
			{ID: "o-a", Kind: "sale", Lane: "1", Ref: "A", State: "paid", PartnerTransID: "T-A", Amount: 1000, Currency: "HKD"},
			{ID: "o-b", Kind: "sale", Lane: "1", Ref: "B", State: "declined", PartnerTransID: "T-B", Amount: 2000, Currency: "HKD", Reason: "BUYER_BALANCE_NOT_ENOUGH"},
			{ID: "o-c", Kind: "sale", Lane: "2", Ref: "C", State: "paid", PartnerTransID: "T-C", Amount: 500, Currency: "JPY"},
			{ID: "o-cr", Kind: "refund", Lane: "2", Ref: "CR", ParentID: "o-c", State: "refunded", PartnerTransID: "T-C", PartnerRefundID: "P-C", Amount: 200, Currency: "JPY"},
			{ID: "o-d", Kind: "sale", Lane: "2", Ref: "D", State: "cancelled", PartnerTransID: "T-D", Amount: 700, Currency: "HKD"},
			{ID: "o-e", Kind: "sale", Lane: "3", Ref: "E", State: "declined", PartnerTransID: "T-E", Amount: 300, Currency: "HKD", Reason: "no trade"},
			{ID: "o-f", Kind: "sale", Lane: "3", Ref: "F", State: "manual", PartnerTransID: "T-F", Amount: 900, Currency: "HKD", Reason: "cancel window closed; refund by hand"},
		},
		Told: []Told{
			{Kind: "sale", Lane: "1", Ref: "A", Amount: 1000, Currency: "HKD", Heard: []string{"APPROVED"}, Final: "APPROVED"},
			{Kind: "sale", Lane: "1", Ref: "B", Amount: 2000, Currency: "HKD", Heard: []string{"DECLINED"}, Final: "DECLINED"},
			{Kind: "sale", Lane: "2", Ref: "C", Amount: 500, Currency: "JPY", Heard: []string{"APPROVED"}, Final: "APPROVED"},
			{Kind: "refund", Lane: "2", Ref: "CR", SaleRef: "C", Amount: 200, Currency: "JPY", Heard: []string{"REFUNDED"}, Final: "REFUNDED"},
			{Kind: "sale", Lane: "2", Ref: "D", Amount: 700, Currency: "HKD", Heard: []string{"APPROVED", "CANCELLED"}, Final: "CANCELLED"},
			{Kind: "sale", Lane: "3", Ref: "E", Amount: 300, Currency: "HKD", Heard: []string{"DECLINED"}, Final: "DECLINED"},
			{Kind: "sale", Lane: "3", Ref: "F", Amount: 900, Currency: "HKD", Heard: []string{"MANUAL"}, Final: "MANUAL", Reason: "CANCEL_TIME_OUT"},
			// A sale whose request never got in before the driver stopped.
			{Kind: "sale", Lane: "4", Ref: "G", Amount: 100, Currency: "HKD", Final: "E_NOT_FOUND"},
		},
		Requests: 12,
	}
}

func TestCheckCleanWorld(t *testing.T) {
	v := Check(world())
	for _, c := range v.Checks {
		if len(c.Violations) > 0 {
			t.Errorf("%s: unexpected violations %q", c.Name, c.Violations)
		}
		if c.Count == 0 {
			t.Errorf("%s: checked nothing", c.Name)
		}
	}
	if v.Passed() != 7 || v.Failed() != 0 {
		t.Errorf("passed %d failed %d, want 7 and 0", v.Passed(), v.Failed())
	}
	want := map[string]Total{"HKD": {Currency: "HKD", Gateway: 1000, Journal: 1000, ECR: 1000, Manual: 1},
		"JPY": {Currency: "JPY", Gateway: 300, Journal: 300, ECR: 300}}
	for _, tot := range v.Totals {
		if tot != want[tot.Currency] {
			t.Errorf("total %+v, want %+v", tot, want[tot.Currency])
		}
	}
}

// TestCheckCatchesPlantedViolations plants one fault at a time in the
// clean world and expects the named rule to report it.
func TestCheckCatchesPlantedViolations(t *testing.T) {
	cases := []struct {
		name  string
		plant func(*Sources)
		check string
		want  string
	}{
		{"paid trade the journal calls declined", func(s *Sources) { s.Ops[0].State = "declined" },
			CheckPaidNotApproved, "1/A (trade T-A): paid at the gateway, but the journal says declined"},
		{"paid trade the ECR heard DECLINED for", func(s *Sources) { s.Told[0].Heard = []string{"DECLINED"} },
			CheckPaidNotApproved, "1/A (trade T-A): the ECR heard DECLINED, but the buyer paid"},
		{"paid trade the journal does not know", func(s *Sources) {
			p := time.Now()
			s.Trades = append(s.Trades, Trade{PartnerTransID: "T-X", Status: "TRADE_SUCCESS", Amount: 5, Currency: "HKD", Paid: &p})
		}, CheckPaidNotApproved, "trade T-X (5 HKD, \"\") paid at the gateway; the journal has no sale for it"},
		{"cancelled locally, money kept at the gateway", func(s *Sources) { s.Trades[3].Refunded, s.Trades[3].Status = 0, "TRADE_SUCCESS" },
			CheckPaidNotApproved, "2/D (trade T-D): the gateway keeps 700 HKD, the journal (cancelled) says 0"},
		{"APPROVED with no paid trade", func(s *Sources) { s.Trades[0].Paid, s.Trades[0].Status = nil, "WAIT_BUYER_PAY" },
			CheckApprovedUnpaid, "1/A: the journal says paid, but trade T-A was never paid (WAIT_BUYER_PAY)"},
		{"APPROVED told, declined in the journal", func(s *Sources) { s.Told[1].Heard = []string{"APPROVED"} },
			CheckApprovedUnpaid, "1/B: the ECR heard APPROVED, but trade T-B was never paid (TRADE_CLOSED)"},
		{"APPROVED told for a sale the journal never had", func(s *Sources) { s.Told[7].Final = "APPROVED" },
			CheckApprovedUnpaid, "4/G: the ECR heard APPROVED, but the journal has no such sale"},
		{"two trades for one ref", func(s *Sources) {
			s.Trades = append(s.Trades, Trade{PartnerTransID: "T-A2", Status: "TRADE_CLOSED", Amount: 1000, Currency: "HKD", TransName: Subject("x", "1", "A")})
		}, CheckTwoTrades, "1/A has 2 trades: [T-A T-A2]"},
		{"a trade of no ref", func(s *Sources) {
			s.Trades = append(s.Trades, Trade{PartnerTransID: "T-Z", Status: "TRADE_CLOSED", Amount: 1, Currency: "HKD", TransName: "Tickets"})
		}, CheckTwoTrades, "trade T-Z (\"Tickets\") belongs to no ref"},
		{"an operation left querying", func(s *Sources) { s.Ops[1].State = "querying" },
			CheckFinal, "sale 1/B (o-b) is still querying"},
		{"MANUAL without a reason", func(s *Sources) { s.Ops[6].Reason = "" },
			CheckFinal, "sale 3/F (o-f) is MANUAL without a reason"},
		{"ECR left PENDING", func(s *Sources) { s.Told[1].Final = "PENDING" },
			CheckFinal, "sale 1/B: still PENDING at the closing STATUS"},
		{"ECR told MANUAL without a reason", func(s *Sources) { s.Told[6].Reason = "" },
			CheckFinal, "sale 3/F: MANUAL without a reason"},
		{"totals differ", func(s *Sources) { s.Trades[2].Refunded = 100 },
			CheckTotals, "JPY: gateway kept 400, journal 300, ECRs told 300"},
		{"ECR told a different total", func(s *Sources) { s.Told[0].Final = "CANCELLED" },
			CheckTotals, "HKD: gateway kept 1000, journal 1000, ECRs told 0"},
		{"gateway refund unknown to the journal", func(s *Sources) {
			s.Trades[0].Refunds = []TradeRefund{{PartnerRefundID: "P-X", Amount: 10, Currency: "HKD"}}
		}, CheckRefunds, "gateway refund P-X of trade T-A (10 HKD) is not in the journal"},
		{"journal refunded, gateway not", func(s *Sources) { s.Trades[2].Refunds, s.Trades[2].Refunded = nil, 0 },
			CheckRefunds, "refund 2/CR (P-C): refunded in the journal, unknown at the gateway"},
		{"refund declined locally, done at the gateway", func(s *Sources) { s.Ops[3].State = "refund_declined" },
			CheckRefunds, "refund 2/CR (P-C): refunded at the gateway, but the journal says refund_declined"},
		{"unexpected ERROR", func(s *Sources) { s.Errors = append(s.Errors, "lane 1 SALE A: E_INTERNAL internal error") },
			CheckErrors, "lane 1 SALE A: E_INTERNAL internal error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := world()
			tc.plant(&src)
			v := Check(src)
			if v.Failed() == 0 {
				t.Fatal("no check failed")
			}
			for _, c := range v.Checks {
				if c.Name != tc.check {
					continue
				}
				for _, got := range c.Violations {
					if got == tc.want {
						return
					}
				}
				t.Fatalf("%s: violations %q, want %q among them", c.Name, c.Violations, tc.want)
			}
			t.Fatalf("no check named %q", tc.check)
		})
	}
}

func TestCheckIsPure(t *testing.T) {
	a, b := Check(world()), Check(world())
	if len(a.Checks) != len(b.Checks) {
		t.Fatal("different shapes")
	}
	for i := range a.Checks {
		if strings.Join(a.Checks[i].Violations, "|") != strings.Join(b.Checks[i].Violations, "|") || a.Checks[i].Count != b.Checks[i].Count {
			t.Errorf("check %s differs between runs", a.Checks[i].Name)
		}
	}
}
