//go:build unix

package daemon_test

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
	"github.com/tillbridge/tillbridge/queue"
)

// blockPrinter turns lane's receipt file (the sandbox's file-backed
// printer) into a FIFO nobody reads: the receipt's print blocks in open(2)
// until the returned function opens a reader. The job fits the pipe's
// buffer, so nothing needs to drain it.
func blockPrinter(t *testing.T, e *env, lane string) (unblock func()) {
	t.Helper()
	path := filepath.Join(e.Dir, "receipts", "lane-"+lane+".escpos")
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
		})
	}
}

// slowPrintEnv is a daemon whose print timeout outlasts the test: a
// receipt prints only once the test lets it.
func slowPrintEnv(t *testing.T) *env {
	return startEnv(t, daemonenv.WithDaemon(func(o *daemon.Options) { o.PrintTimeout = testBound }))
}

// TestAbortWhileReceiptPrintsIsRefused: the sale is paid and its receipt
// is printing (slow printer) when ABORT arrives. The outcome is decided:
// ABORT is refused (E_NOT_FOUND, the sale is over), no cancel reaches the
// gateway, STATUS already says APPROVED, and the SALE's RESULT is APPROVED.
// Before the fix the ABORT was accepted and the paid trade cancelled while
// the RESULT still said APPROVED.
func TestAbortWhileReceiptPrintsIsRefused(t *testing.T) {
	e := slowPrintEnv(t)
	unblock := blockPrinter(t, e, "1")
	defer unblock()
	saleRes, drop := e.startUntil(false, saleMsg("1", "AP1", 1250, code(0, 61)), ecrproto.EventPrinting)
	defer drop()

	abort, _ := e.Do(enc(true), &ecrproto.Message{Type: ecrproto.TypeAbort, Lane: "1", Ref: "AP1"})
	if abort.Type != ecrproto.TypeError || abort.Code != ecrproto.CodeNotFound {
		t.Errorf("ABORT while the receipt prints: %+v, want ERROR E_NOT_FOUND (the sale is over)", abort)
	}
	status, _ := e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: "1", Ref: "AP1"})
	if status.Status != ecrproto.StatusApproved || status.AlipayTransID == "" {
		t.Errorf("STATUS while the receipt prints: %+v, want the decided APPROVED", status)
	}
	unblock()
	res := <-saleRes
	if res == nil || res.Status != ecrproto.StatusApproved || res.AlipayTransID == "" {
		t.Fatalf("SALE RESULT: %+v, want APPROVED", res)
	}
	if status.AlipayTransID != "" && status.AlipayTransID != res.AlipayTransID {
		t.Errorf("STATUS said %s, RESULT %s", status.AlipayTransID, res.AlipayTransID)
	}
	after := e.StatusUntilFinal(enc(true), "1", "AP1")
	if after.Status != ecrproto.StatusApproved {
		t.Errorf("STATUS after the RESULT: %+v, want APPROVED", after)
	}
	op := e.Op("1", "AP1")
	if op.State != queue.StatePaid || op.CancelRequested {
		t.Errorf("journal: %s (cancel requested %v), want paid with no cancel", op.State, op.CancelRequested)
	}
	trades := ledger(t, e.Sandbox.URL)
	checkLedgerAgrees(t, trades, op.PartnerTransID, res)
	if tr := trades[op.PartnerTransID]; tr.Calls.Cancel != 0 || tr.Refunded != 0 {
		t.Errorf("gateway saw %d cancel(s), %d refunded: the ABORT reached it", tr.Calls.Cancel, tr.Refunded)
	}
}

// TestCancelWhileReceiptPrintsFollowsTheResult: CANCEL of a paid sale
// whose receipt is still printing is an explicit reversal ordered after
// the SALE's RESULT: the ECR hears APPROVED on the SALE first, then
// CANCELLED (ECR_CANCEL) on the CANCEL; never APPROVED after the reversal.
// Before the fix the CANCEL answered CANCELLED while the SALE still
// printed, and the SALE then answered APPROVED.
func TestCancelWhileReceiptPrintsFollowsTheResult(t *testing.T) {
	e := slowPrintEnv(t)
	unblock := blockPrinter(t, e, "2")
	defer unblock()
	saleRes, drop := e.startUntil(true, saleMsg("2", "CP1", 1250, code(0, 62)), ecrproto.EventPrinting)
	defer drop()

	var mu sync.Mutex
	var order []string
	arrived := func(what string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, what)
	}
	waiting := make(chan struct{}, 1)
	c, err := dialWithEvents(e, false, func(m *ecrproto.Message) {
		if m.Event == ecrproto.EventPrinting {
			select {
			case waiting <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancelRes := make(chan *ecrproto.Message, 1)
	go func() {
		r := doBounded(c, &ecrproto.Message{Type: ecrproto.TypeCancel, Lane: "2", Ref: "CP1"})
		arrived("CANCEL")
		cancelRes <- r
	}()
	saleDone := make(chan *ecrproto.Message, 1)
	go func() {
		r := <-saleRes
		arrived("SALE")
		saleDone <- r
	}()
	select {
	case <-waiting: // the CANCEL waits for the SALE's RESULT
	case r := <-cancelRes: // answered while the receipt still prints
		cancelRes <- r
	}
	unblock()
	res, cres := <-saleDone, <-cancelRes

	if res == nil || res.Status != ecrproto.StatusApproved || res.AlipayTransID == "" {
		t.Fatalf("SALE RESULT: %+v, want APPROVED (decided before the CANCEL)", res)
	}
	if cres == nil || cres.Status != ecrproto.StatusCancelled || cres.Reason != daemon.ReasonECRCancel {
		t.Fatalf("CANCEL: %+v, want CANCELLED ECR_CANCEL (the reversal)", cres)
	}
	mu.Lock()
	got := append([]string(nil), order...)
	mu.Unlock()
	if len(got) != 2 || got[0] != "SALE" {
		t.Fatalf("answers arrived as %v: the CANCEL's reversal came before the SALE's APPROVED", got)
	}
	after := e.StatusUntilFinal(enc(false), "2", "CP1")
	if after.Status != ecrproto.StatusCancelled {
		t.Errorf("STATUS after both: %+v, want CANCELLED", after)
	}
	checkLedgerAgrees(t, ledger(t, e.Sandbox.URL), e.Op("2", "CP1").PartnerTransID, after)
}
