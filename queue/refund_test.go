package queue

import (
	"context"
	"testing"
	"time"
)

func TestSubmitSaleIsIdempotent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	s := Sale{Lane: "1", Ref: "r1", Amount: 100, Currency: "HKD", Subject: "Tickets", Terminal: "T1"}
	first, err := h.e.SubmitSale(ctx, s)
	if err != nil || first.Sent {
		t.Fatalf("first: %+v, %v", first, err)
	}
	again, err := h.e.SubmitSale(ctx, s)
	if err != nil || again.Op.ID != first.Op.ID || again.Sent {
		t.Fatalf("repeat: %+v, %v", again, err)
	}
	other := s
	other.Lane = "2"
	if o, err := h.e.SubmitSale(ctx, other); err != nil || o.Op.ID == first.Op.ID {
		t.Fatalf("same ref on another lane: %v, %v", o.Op.ID, err)
	}
	for field, mut := range map[string]func(*Sale){
		"amount":   func(s *Sale) { s.Amount = 101 },
		"currency": func(s *Sale) { s.Currency = "USD" },
		"subject":  func(s *Sale) { s.Subject = "Other" },
	} {
		c := s
		mut(&c)
		_, err := h.e.SubmitSale(ctx, c)
		var rc *RefConflictError
		if !asErr(err, &rc) || rc.Field != field || rc.Existing.ID != first.Op.ID {
			t.Errorf("%s: %v", field, err)
		}
	}
}

// A repeated SALE with its barcode, while the first is paying or after it
// finished, never pays again; another code is a conflict.
func TestRepeatedSaleWithCodeNeverPaysTwice(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.gw.set(func(g *fakeGateway) { g.pay = payUnknow; g.query = queryStatus(TradeSuccess) })
	s := Sale{Lane: "1", Ref: "r1", Amount: 100, Currency: "HKD", BuyerCode: "281234567890123410"}
	first, err := h.e.SubmitSale(ctx, s)
	op := first.Op
	if err != nil || op.State != StatePaying || !first.Sent {
		t.Fatalf("first: %+v, %v", first, err)
	}
	if again, err := h.e.SubmitSale(ctx, s); err != nil || again.Op.ID != op.ID || again.Sent {
		t.Fatalf("repeat while paying: %+v, %v", again, err)
	}
	h.advance(4*time.Second, time.Second)
	h.want(op.ID, StatePaid)
	if again, err := h.e.SubmitSale(ctx, s); err != nil || again.Op.State != StatePaid || again.Sent {
		t.Fatalf("repeat when paid: %+v, %v", again, err)
	}
	if again, err := h.e.StartPay(ctx, op.ID, s.BuyerCode); err != nil || again.Sent {
		t.Fatalf("StartPay repeat: %+v, %v", again, err)
	}
	h.settle()
	if n := h.gw.count("pay"); n != 1 {
		t.Fatalf("%d pays", n)
	}
	s.BuyerCode = "281234567890129999"
	if _, err := h.e.SubmitSale(ctx, s); !asErr(err, new(*RefConflictError)) {
		t.Fatalf("other code: %v", err)
	}
}

func TestRefunds(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sale := h.paidSale("r1", 1000)
	h.gw.set(func(g *fakeGateway) { g.refund = refundOK })
	r1 := Refund{Lane: "1", RefundRef: "f1", SaleRef: "r1", Amount: 600, Currency: "HKD", Reason: "dup"}
	op1, err := h.e.SubmitRefund(ctx, r1)
	if err != nil || op1.State != StateRefunding || op1.ParentID != sale.ID ||
		op1.PartnerTransID != sale.PartnerTransID || op1.PartnerRefundID == "" {
		t.Fatalf("refund: %+v, %v", op1, err)
	}
	if again, err := h.e.SubmitRefund(ctx, r1); err != nil || again.ID != op1.ID {
		t.Fatalf("repeat: %v", err)
	}
	bigger := r1
	bigger.Amount = 700
	if _, err := h.e.SubmitRefund(ctx, bigger); !asErr(err, new(*RefConflictError)) {
		t.Fatalf("same ref, other amount: %v", err)
	}
	r2 := Refund{Lane: "1", RefundRef: "f2", SaleID: sale.ID, Amount: 401, Currency: "HKD"}
	var ex *RefundExceedsError
	if _, err := h.e.SubmitRefund(ctx, r2); !asErr(err, &ex) || ex.Available != 400 {
		t.Fatalf("over the rest: %v", err)
	}
	r2.Amount = 400
	r2.PartnerRefundID = "CENTRAL-0001"
	op2, err := h.e.SubmitRefund(ctx, r2)
	if err != nil || op2.PartnerRefundID != "CENTRAL-0001" {
		t.Fatalf("given partner_refund_id: %+v, %v", op2, err)
	}
	byID := r2
	byID.RefundRef = "f3"
	if _, err := h.e.SubmitRefund(ctx, byID); !asErr(err, new(*RefConflictError)) {
		t.Fatalf("partner_refund_id reused under another ref: %v", err)
	}
	h.settle()
	h.want(op1.ID, StateRefunded)
	h.want(op2.ID, StateRefunded)
	if n := h.gw.count("refund"); n != 2 {
		t.Fatalf("%d refund calls", n)
	}
}

func TestRefundRules(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	pending := h.sale("r0", 100)
	if _, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "f0", SaleID: pending.ID,
		Amount: 1, Currency: "HKD"}); !asErr(err, new(*StateError)) {
		t.Fatalf("refund of an unpaid sale: %v", err)
	}
	sale := h.paidSale("r1", 100)
	if _, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "f1", SaleID: sale.ID,
		Amount: 1, Currency: "USD"}); !asErr(err, new(*InvalidError)) {
		t.Fatalf("other currency: %v", err)
	}
	if _, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "f1", SaleRef: "nope",
		Amount: 1, Currency: "HKD"}); !isNotFound(err) {
		t.Fatalf("unknown sale: %v", err)
	}
	// A declined refund gives its amount back.
	h.gw.set(func(g *fakeGateway) {
		g.refund = func(RefundRequest) (RefundResult, error) {
			return RefundResult{Outcome: OutcomeDeclined, Code: "REFUND_AMT_RESTRICTION"}, nil
		}
	})
	op, err := h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "f2", SaleID: sale.ID, Amount: 100,
		Currency: "HKD"})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.want(op.ID, StateRefundDeclined)
	h.gw.set(func(g *fakeGateway) { g.refund = refundOK })
	op, err = h.e.SubmitRefund(ctx, Refund{Lane: "1", RefundRef: "f3", SaleID: sale.ID, Amount: 100,
		Currency: "HKD"})
	if err != nil {
		t.Fatalf("refund after a declined one: %v", err)
	}
	h.settle()
	h.want(op.ID, StateRefunded)
}

// Refunds are stored and forwarded: offline for an hour, then delivered with
// the same partner_refund_id.
func TestRefundStoreAndForward(t *testing.T) {
	h := newHarness(t)
	sale := h.paidSale("r1", 100)
	op, err := h.e.SubmitRefund(context.Background(), Refund{Lane: "1", RefundRef: "f1",
		SaleID: sale.ID, Amount: 100, Currency: "HKD"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	h.gw.set(func(g *fakeGateway) {
		g.refund = func(r RefundRequest) (RefundResult, error) {
			ids = append(ids, r.PartnerRefundID)
			return RefundResult{Code: "SYSTEM_ERROR"}, nil
		}
	})
	h.advance(time.Hour, 10*time.Second)
	h.restart()
	h.want(op.ID, StateRefunding)
	h.gw.set(func(g *fakeGateway) { g.refund = refundOK })
	h.advance(5*time.Minute, 10*time.Second)
	h.want(op.ID, StateRefunded)
	for _, id := range ids {
		if id != op.PartnerRefundID {
			t.Fatalf("retry with partner_refund_id %q, want %q", id, op.PartnerRefundID)
		}
	}
	if len(ids) < 10 {
		t.Fatalf("only %d attempts in an hour", len(ids))
	}
}

func TestLimits(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.MaxOpen = 3
		c.MaxPendingAmount = map[string]int64{"HKD": 1000}
	})
	ctx := context.Background()
	h.sale("a", 600)
	sub := func(ref string, amount int64, cur string) error {
		_, err := h.e.SubmitSale(ctx, Sale{Lane: "1", Ref: ref, Amount: amount, Currency: cur})
		return err
	}
	var le *LimitError
	if err := sub("b", 401, "HKD"); !asErr(err, &le) || le.Limit != "max_pending_amount" || le.Current != 600 {
		t.Fatalf("amount: %v", err)
	}
	if err := sub("b", 400, "HKD"); err != nil {
		t.Fatal(err)
	}
	if err := sub("c", 5000, "USD"); err != nil {
		t.Fatalf("uncapped currency: %v", err)
	}
	if err := sub("d", 1, "USD"); !asErr(err, &le) || le.Limit != "max_open" {
		t.Fatalf("count: %v", err)
	}
	h.sale("a", 600) // a repeat is not new work

}
