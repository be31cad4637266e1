package alipaygw_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/queue"
)

// waitFinal runs until every operation of e is final, or fails after limit.
func waitFinal(t *testing.T, e *queue.Engine, limit time.Duration) {
	t.Helper()
	testenv.WaitFor(t, limit, func() bool {
		ops, err := e.List(context.Background(), queue.Filter{States: []queue.State{queue.StateWaitingScan,
			queue.StatePaying, queue.StateQuerying, queue.StateCancelling, queue.StateChecking,
			queue.StateRefunding}})
		if err != nil {
			t.Fatal(err)
		}
		return len(ops) == 0
	}, "every operation final")
}

// Every sandbox scenario code, through the real client and the engine,
// ends in the state the scenario implies, and the journal agrees with the
// gateway's ledger.
func TestScenariosThroughEngine(t *testing.T) {
	_, base := startSandbox(t, "")
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := fastEngine()
	cfg.PayDeadline = 4 * time.Second // room for slow CI: outcomes here are exact
	e := openEngine(t, path, base, cfg)
	ctx, halt := runScheduler(e)
	want := map[string]queue.State{"00": queue.StatePaid, "10": queue.StatePaid,
		"11": queue.StateCancelled, "12": queue.StateDeclined, "20": queue.StateDeclined,
		"21": queue.StateDeclined, "30": queue.StateCancelled, "31": queue.StatePaid,
		"32": queue.StatePaid, "33": queue.StatePaid, "34": queue.StateCancelled, "35": queue.StatePaid}
	for _, code := range scenarioCodes() {
		_, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: "s" + code[16:], Amount: 1250,
			Currency: "HKD", Subject: "Adult ticket", Terminal: "T1", BuyerCode: code})
		if err != nil {
			t.Fatalf("SubmitSale %s: %v", code, err)
		}
	}
	waitFinal(t, e, 30*time.Second)
	if err := halt(); err != nil {
		t.Fatal(err)
	}
	for _, code := range scenarioCodes() {
		op, err := e.GetByRef(context.Background(), "1", queue.KindSale, "s"+code[16:])
		if err != nil {
			t.Fatal(err)
		}
		if w := want[code[16:]]; op.State != w {
			t.Errorf("scenario %s: %s (reason %q), want %s", code[16:], op.State, op.Reason, w)
		}
		if op.State == queue.StatePaid && (op.AlipayTransID == "" || op.AmountCNY == "") {
			t.Errorf("scenario %s: paid without trade details: %+v", code[16:], op)
		}
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, trades := journalAgrees(t, path, base); len(trades) != 11 { // 30 creates no trade; 20 and 21 create declined ones
		t.Errorf("%d trades at the gateway, want 11", len(trades))
	}
}

// A paid sale cancelled by the ECR and another refunded in two parts: the
// ledger shows the money returned, and a refund beyond the rest is refused.
func TestCancelAndRefundThroughEngine(t *testing.T) {
	_, base := startSandbox(t, "")
	path := filepath.Join(t.TempDir(), "journal.db")
	e := openEngine(t, path, base, fastEngine())
	ctx, halt := runScheduler(e)
	var ids []string
	for i := range 2 {
		submitted, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: fmt.Sprint("p", i), Amount: 1000,
			Currency: "HKD", BuyerCode: "281234567890123400"})
		op := submitted.Op
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, op.ID)
	}
	waitFinal(t, e, 10*time.Second)
	if _, err := e.Cancel(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	for i, amount := range []int64{400, 600} {
		if _, err := e.SubmitRefund(ctx, queue.Refund{Lane: "1", RefundRef: fmt.Sprint("f", i),
			SaleID: ids[1], Amount: amount, Currency: "HKD", Reason: "visitor left early"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.SubmitRefund(ctx, queue.Refund{Lane: "1", RefundRef: "f9", SaleID: ids[1],
		Amount: 1, Currency: "HKD"}); err == nil {
		t.Fatal("a refund beyond the paid amount was accepted")
	}
	waitFinal(t, e, 10*time.Second)
	_ = halt()
	_ = e.Close(context.Background())
	ops, trades := journalAgrees(t, path, base)
	byRef := map[string]queue.Operation{}
	for _, op := range ops {
		byRef[op.Ref] = op
	}
	if p0 := byRef["p0"]; p0.State != queue.StateCancelled || trades[p0.PartnerTransID].CancelAction != "refund" {
		t.Errorf("cancelled paid sale: %s / %+v", p0.State, trades[p0.PartnerTransID])
	}
	if tr := trades[byRef["p1"].PartnerTransID]; tr.Refunded != 1000 || tr.Status != "TRADE_CLOSED" {
		t.Errorf("refunded sale at the gateway: %+v", tr)
	}
}

// A code the client refuses to send (not 16–24 digits) is a definite
// decline — nothing left the till — not an unknown outcome to poll and
// cancel.
func TestUnsendablePayIsDeclined(t *testing.T) {
	_, base := startSandbox(t, "")
	e := openEngine(t, filepath.Join(t.TempDir(), "journal.db"), base, fastEngine())
	defer e.Close(context.Background())
	ctx, halt := runScheduler(e)
	defer halt()
	submitted, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: "bad", Amount: 100, Currency: "HKD",
		BuyerCode: "12345"})
	op := submitted.Op
	if err != nil {
		t.Fatal(err)
	}
	waitFinal(t, e, 10*time.Second)
	got, err := e.Get(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != queue.StateDeclined || got.LastCode != "INVALID_REQUEST:buyer_identity_code" || got.Attempts != 1 {
		t.Fatalf("unsendable pay: %s, code %q, %d attempts", got.State, got.LastCode, got.Attempts)
	}
	if n := len(ledger(t, base)); n != 0 {
		t.Fatalf("%d trades at the gateway", n)
	}
}
