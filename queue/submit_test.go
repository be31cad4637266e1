package queue

import (
	"context"
	"testing"
)

// Submitted.Sent is true exactly for the one call that committed the pay
// and sent it: never for a sale without a code, a repeat, a call racing the
// pay in flight, or a sale that is no longer waiting for its code.
func TestSubmittedSaysWhetherThisCallSent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	release := make(chan struct{})
	h.gw.set(func(g *fakeGateway) {
		g.pay = func(r PayRequest) (PayResult, error) {
			<-release // the pay stays in flight until the test lets it answer
			return payOK(r)
		}
	})
	const code = "281234567890123400"
	scan := Sale{Lane: "1", Ref: "scan", Amount: 500, Currency: "HKD"}
	withCode := Sale{Lane: "1", Ref: "code", Amount: 600, Currency: "HKD", BuyerCode: code}
	// check(what, sent)(call) checks a call's Sent and returns its operation.
	check := func(what string, sent bool) func(Submitted, error) Operation {
		return func(got Submitted, err error) Operation {
			t.Helper()
			if err != nil || got.Sent != sent {
				t.Fatalf("%s: sent %v (want %v), %v", what, got.Sent, sent, err)
			}
			return got.Op
		}
	}

	op := check("sale without a code", false)(h.e.SubmitSale(ctx, scan))
	check("repeat without a code", false)(h.e.SubmitSale(ctx, scan))
	check("the code arrives", true)(h.e.StartPay(ctx, op.ID, code))
	check("the code again, pay in flight", false)(h.e.StartPay(ctx, op.ID, code))
	check("the SALE repeated with the code, pay in flight", false)(h.e.SubmitSale(ctx, withScan(scan, code)))

	op2 := check("sale with its code", true)(h.e.SubmitSale(ctx, withCode))
	check("repeat with the code", false)(h.e.SubmitSale(ctx, withCode))

	close(release)
	h.settle()
	h.want(op.ID, StatePaid)
	h.want(op2.ID, StatePaid)
	check("the code after the answer", false)(h.e.StartPay(ctx, op.ID, code))
	check("repeat after the answer", false)(h.e.SubmitSale(ctx, withCode))
	if n := h.gw.count("pay"); n != 2 {
		t.Fatalf("%d pays for two sales", n)
	}

	voided := h.sale("voided", 700)
	if _, err := h.e.Cancel(ctx, voided.ID); err != nil {
		t.Fatal(err)
	}
	got, err := h.e.StartPay(ctx, voided.ID, code)
	if !asErr(err, new(*StateError)) || got.Sent {
		t.Fatalf("the code of a voided sale: sent %v, %v", got.Sent, err)
	}
}

func withScan(s Sale, code string) Sale {
	s.BuyerCode = code
	return s
}
