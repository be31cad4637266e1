package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// waitEvent starts SALE m on its own connection and returns once EVENT ev
// arrived; the returned channel yields the final answer (nil on a broken
// connection) and close drops the connection.
func (e *env) startUntil(framed bool, m *ecrproto.Message, ev string) (<-chan *ecrproto.Message, func()) {
	e.T.Helper()
	seen := make(chan struct{}, 1)
	c, err := dialWithEvents(e, framed, func(x *ecrproto.Message) {
		if x.Event == ev {
			select {
			case seen <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		e.T.Fatal(err)
	}
	out := make(chan *ecrproto.Message, 1)
	go func() { out <- doBounded(c, m) }()
	select {
	case <-seen:
	case <-time.After(testBound):
		e.T.Fatalf("no %s event", ev)
	}
	return out, func() { c.Close() }
}

// TestReconnectThenStatus drops the ECR's connection while its sale waits
// for the code; the sale goes on, and STATUS (and a repeated SALE) on a new
// connection give the true outcome.
func TestReconnectThenStatus(t *testing.T) {
	e := startEnv(t)
	for _, framed := range []bool{false, true} {
		lane, ref := "1", "RC-"+encName(framed)
		_, drop := e.startUntil(framed, saleMsg(lane, ref, 990, ""), ecrproto.EventWaitScan)
		drop()
		scan, _ := e.Do(enc(!framed), &ecrproto.Message{Type: ecrproto.TypeScan, Lane: lane, Barcode: code(10, 7)})
		if scan.Status != ecrproto.StatusOK {
			t.Fatalf("SCAN after the ECR dropped: %+v", scan)
		}
		res := e.StatusUntilFinal(enc(framed), lane, ref)
		if res.Status != ecrproto.StatusApproved || res.AlipayTransID == "" {
			t.Fatalf("STATUS: %+v", res)
		}
		again, _ := e.Do(enc(framed), saleMsg(lane, ref, 990, ""))
		if again.Status != ecrproto.StatusApproved || again.AlipayTransID != res.AlipayTransID {
			t.Fatalf("repeated SALE: %+v, want the same APPROVED %s", again, res.AlipayTransID)
		}
		checkLedgerAgrees(t, ledger(t, e.Sandbox.URL), e.Op(lane, ref).PartnerTransID, res)
		last, _ := e.Do(enc(framed), &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: lane})
		if last.Ref != ref || last.AlipayTransID != res.AlipayTransID {
			t.Fatalf("STATUS without ref: %+v, want the lane's last sale %s", last, ref)
		}
	}
}

// TestSaleIdempotency: a repeat with the same fields attaches to the
// running sale and gets the same RESULT; other fields are refused; another
// ref on a busy lane is refused; never two trades.
func TestSaleIdempotency(t *testing.T) {
	e := startEnv(t)
	first, drop := e.startUntil(false, saleMsg("2", "ID1", 500, code(10, 1)), ecrproto.EventSent)
	defer drop()
	busy, _ := e.Do(enc(true), saleMsg("2", "ID2", 500, code(0, 2)))
	if busy.Type != ecrproto.TypeError || busy.Code != ecrproto.CodeLaneBusy {
		t.Fatalf("other ref on a busy lane: %+v", busy)
	}
	conflict, _ := e.Do(enc(false), saleMsg("2", "ID1", 501, code(10, 1)))
	if conflict.Code != ecrproto.CodeRefConflict || conflict.Field != "amount" {
		t.Fatalf("same ref, other amount: %+v", conflict)
	}
	attached, _ := e.Do(enc(true), saleMsg("2", "ID1", 500, code(10, 1)))
	orig := <-first
	if orig == nil || orig.Status != ecrproto.StatusApproved || attached.AlipayTransID != orig.AlipayTransID {
		t.Fatalf("original %+v, attached %+v", orig, attached)
	}
	after, _ := e.Do(enc(false), saleMsg("2", "ID1", 500, ""))
	if after.AlipayTransID != orig.AlipayTransID {
		t.Fatalf("repeat after the end: %+v", after)
	}
	conflictAfter, _ := e.Do(enc(false), saleMsg("2", "ID1", 600, ""))
	if conflictAfter.Code != ecrproto.CodeRefConflict {
		t.Fatalf("other amount after the end: %+v", conflictAfter)
	}
	otherCode, _ := e.Do(enc(true), saleMsg("2", "ID1", 500, code(0, 99)))
	if otherCode.Code != ecrproto.CodeRefConflict || otherCode.Field != "barcode" {
		t.Fatalf("other code after the end: %+v", otherCode)
	}
	ptid := e.Op("2", "ID1").PartnerTransID
	n := 0
	for id, tr := range ledger(t, e.Sandbox.URL) {
		if id == ptid || tr.BuyerCode[len(tr.BuyerCode)-4:] == code(10, 1)[14:] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d trades for one ref", n)
	}
}

// TestAbortBeforeAndAfterPay: ABORT while waiting for the code voids the
// sale (DECLINED, VOIDED, nothing at the gateway); ABORT after the pay
// requests the cancel (CANCELLED).
func TestAbortBeforeAndAfterPay(t *testing.T) {
	e := startEnv(t)
	res, _ := e.startUntil(true, saleMsg("3", "AB1", 700, ""), ecrproto.EventWaitScan)
	ab, _ := e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeAbort, Lane: "3"})
	if ab.Status != ecrproto.StatusOK {
		t.Fatalf("ABORT: %+v", ab)
	}
	if r := <-res; r == nil || r.Status != ecrproto.StatusDeclined || r.Reason != "VOIDED" {
		t.Fatalf("aborted sale: %+v", r)
	}
	if _, found := ledger(t, e.Sandbox.URL)[e.Op("3", "AB1").PartnerTransID]; found {
		t.Fatal("a voided sale reached the gateway")
	}
	res2, drop := e.startUntil(false, saleMsg("3", "AB2", 700, code(11, 3)), ecrproto.EventWaitBuyerConfirm)
	defer drop()
	ab2, _ := e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeAbort, Lane: "3", Ref: "AB2"})
	if ab2.Status != ecrproto.StatusOK {
		t.Fatalf("ABORT after pay: %+v", ab2)
	}
	r2 := <-res2
	if r2 == nil || r2.Status != ecrproto.StatusCancelled || r2.Reason != "ECR_CANCEL" {
		t.Fatalf("aborted paying sale: %+v", r2)
	}
	checkLedgerAgrees(t, ledger(t, e.Sandbox.URL), e.Op("3", "AB2").PartnerTransID, r2)
}

// TestCancelAndRefund reverses one paid sale with CANCEL and refunds
// another in part; the ledger agrees.
func TestCancelAndRefund(t *testing.T) {
	e := startEnv(t)
	paid, _ := e.Do(enc(false), saleMsg("1", "CR1", 2000, code(0, 11)))
	cancel, events := e.Do(enc(true), &ecrproto.Message{Type: ecrproto.TypeCancel, Lane: "1", Ref: "CR1"})
	if cancel.Status != ecrproto.StatusCancelled || !contains(events, ecrproto.EventCancelling) {
		t.Fatalf("CANCEL: %+v %v", cancel, events)
	}
	tr := ledger(t, e.Sandbox.URL)[e.Op("1", "CR1").PartnerTransID]
	if paid.Status != ecrproto.StatusApproved || tr.Status != "TRADE_CLOSED" {
		t.Fatalf("cancelled paid sale: ledger %s", tr.Status)
	}
	e.Do(enc(false), saleMsg("1", "CR2", 3000, code(0, 12)))
	refund := &ecrproto.Message{Type: ecrproto.TypeRefund, Lane: "1", Ref: "CR2", RefundRef: "RF1",
		Amount: ecrproto.Int(1000), Currency: "HKD"}
	res, _ := e.Do(enc(false), refund)
	if res.Status != ecrproto.StatusRefunded || res.RefundRef != "RF1" || res.Ref != "CR2" {
		t.Fatalf("REFUND: %+v", res)
	}
	again, _ := e.Do(enc(true), refund)
	too := refund.Clone()
	too.RefundRef, too.Amount = "RF2", ecrproto.Int(2500)
	over, _ := e.Do(enc(false), too)
	if again.Status != ecrproto.StatusRefunded || over.Code != ecrproto.CodeField || over.Field != "amount" {
		t.Fatalf("repeat %+v; over-refund %+v", again, over)
	}
	st := e.StatusUntilFinal(enc(false), "1", "RF1")
	tr2 := ledger(t, e.Sandbox.URL)[e.Op("1", "CR2").PartnerTransID]
	if st.Status != ecrproto.StatusRefunded || tr2.Refunded != 1000 || len(tr2.Refunds) != 1 {
		t.Fatalf("STATUS of the refund %+v; ledger refunded %d in %d", st, tr2.Refunded, len(tr2.Refunds))
	}
}

// TestReceiptsAndDevices: the approved sale's receipt lands in the lane's
// file printer; PRINT reprints and prints text; DEVICES answers.
func TestReceiptsAndDevices(t *testing.T) {
	e := startEnv(t)
	res, _ := e.Do(enc(false), saleMsg("4", "RP1", 1250, code(0, 21)))
	file := filepath.Join(e.Dir, "receipts", "lane-4.escpos")
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), res.AlipayTransID) {
		t.Fatalf("receipt file lacks %s (err %v)", res.AlipayTransID, err)
	}
	for _, m := range []*ecrproto.Message{
		{Type: ecrproto.TypePrint, Lane: "4", Receipt: "hello\nworld"},
		{Type: ecrproto.TypeDevices, Lane: "4"},
		{Type: ecrproto.TypeDevices},
	} {
		if r, _ := e.Do(enc(true), m); r.Status != ecrproto.StatusOK {
			t.Fatalf("%s: %+v", m.Type, r)
		}
	}
	b2, _ := os.ReadFile(file)
	if !strings.Contains(string(b2), "world") {
		t.Fatal("PRINT text not printed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	if _, err := e.Daemon.Engine().Get(ctx, e.Op("4", "RP1").ID); err != nil {
		t.Fatal(err)
	}
}

// TestPrinterProblemNeverChangesTheResult: with the lane's printer out of
// paper the sale is still APPROVED; the problem comes as PRINTER_ERROR and
// in the RESULT's message. Once paper is back, PRINT reprints it.
func TestPrinterProblemNeverChangesTheResult(t *testing.T) {
	sim := devices.NewSimPrinter("lane-1")
	profile, err := escpos.LookupProfile("generic-80")
	if err != nil {
		t.Fatal(err)
	}
	p, err := escpos.NewPrinter(escpos.PrinterConfig{Name: "lane-1", Profile: profile, Open: sim.Opener(),
		StatusTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, daemonenv.WithDaemon(func(o *daemon.Options) { o.Printers = map[string]devices.Printer{"lane-1": p} }))
	sim.SetStatus(devices.PrinterStatus{Known: true, Online: true, PaperEnd: true})
	res, events := e.Do(enc(false), saleMsg("1", "PP1", 1250, code(0, 51)))
	if res.Status != ecrproto.StatusApproved || !contains(events, ecrproto.EventPrinterError) ||
		!strings.Contains(res.Message, "paper_end") {
		t.Fatalf("RESULT %+v, events %v", res, events)
	}
	if strings.Contains(string(sim.Printed()), res.AlipayTransID) {
		t.Fatal("printed with no paper")
	}
	sim.SetStatus(devices.PrinterStatus{Known: true, Online: true})
	if r, _ := e.Do(enc(true), &ecrproto.Message{Type: ecrproto.TypePrint, Lane: "1", Ref: "PP1"}); r.Status != ecrproto.StatusOK {
		t.Fatalf("reprint: %+v", r)
	}
	if !strings.Contains(string(sim.Printed()), res.AlipayTransID) {
		t.Fatal("reprint did not print the receipt")
	}
}
