package daemon_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // to hold the journal's write lock from outside
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
	"github.com/tillbridge/tillbridge/queue"
)

// lockJournal takes the write lock of the daemon's journal from another
// connection, as a technician's sqlite3 shell or a backup tool would:
// every journal write then fails with "database is locked" once the
// engine's busy timeout passes, while reads go on (WAL). The returned
// function releases it.
func lockJournal(t *testing.T, e *env) (release func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.Dir, daemon.JournalFile)+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// withBusyTimeout makes journal writes fail fast while the journal is locked.
func withBusyTimeout(d time.Duration) daemonenv.Option {
	return daemonenv.WithDaemon(func(o *daemon.Options) { o.Journal.BusyTimeout = d })
}

// statusReason asks STATUS until its reason is want (the journal catching
// up in the background) and returns that answer.
func (e *env) statusReason(lane, ref, want string) *ecrproto.Message {
	e.T.Helper()
	var last *ecrproto.Message
	testenv.WaitFor(e.T, testBound, func() bool {
		last, _ = e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: lane, Ref: ref})
		return last.Reason == want
	}, fmt.Sprintf("STATUS %s/%s with reason %s", lane, ref, want))
	return last
}

// waitState polls the journal until the sale is in state want.
func (e *env) waitState(lane, ref string, want queue.State) {
	e.T.Helper()
	testenv.WaitFor(e.T, testBound, func() bool { return e.Op(lane, ref).State == want },
		fmt.Sprintf("sale %s/%s in state %s", lane, ref, want))
}

// TestJournalWriteFailureAtScanAnswersAtOnce: the code is scanned but the
// journal cannot record the pay (its write lock is held elsewhere). Nothing
// was sent, so the SALE is answered DECLINED JOURNAL_ERROR at once and the
// lane is free; repeats and STATUS say the same until the journal voids
// the sale once it can write again; no trade exists at the gateway. Before
// the fix the sale waited for the scan timeout (and, the journal unable to
// void it, beyond).
func TestJournalWriteFailureAtScanAnswersAtOnce(t *testing.T) {
	e := startEnv(t, withBusyTimeout(200*time.Millisecond))
	saleRes, drop := e.startUntil(false, saleMsg("1", "JF1", 1250, ""), ecrproto.EventWaitScan)
	defer drop()
	release := lockJournal(t, e)

	scan, _ := e.Do(enc(true), &ecrproto.Message{Type: ecrproto.TypeScan, Lane: "1", Barcode: code(0, 81)})
	if scan.Status != ecrproto.StatusOK {
		t.Fatalf("SCAN: %+v", scan)
	}
	res := <-saleRes
	if res == nil || res.Status != ecrproto.StatusDeclined || res.Reason != daemon.ReasonJournalError {
		t.Fatalf("SALE RESULT: %+v, want DECLINED %s at once", res, daemon.ReasonJournalError)
	}
	if again, _ := e.Do(enc(true), &ecrproto.Message{Type: ecrproto.TypeScan, Lane: "1", Barcode: code(0, 82)}); again.Code != ecrproto.CodeNotFound {
		t.Errorf("SCAN after the answer: %+v, want E_NOT_FOUND (the lane waits for nothing)", again)
	}
	if st, _ := e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: "1", Ref: "JF1"}); st.Status != ecrproto.StatusDeclined {
		t.Errorf("STATUS while the journal is locked: %+v, want the DECLINED answered", st)
	}
	if rep, _ := e.Do(enc(false), saleMsg("1", "JF1", 1250, "")); rep.Status != ecrproto.StatusDeclined {
		t.Errorf("repeated SALE while the journal is locked: %+v, want the DECLINED answered", rep)
	}

	release()
	e.waitState("1", "JF1", queue.StateVoided)
	voided := e.statusReason("1", "JF1", daemon.ReasonVoided)
	if voided.Status != ecrproto.StatusDeclined {
		t.Fatalf("STATUS once the journal writes again: %+v", voided)
	}
	next, _ := e.Do(enc(false), saleMsg("1", "JF2", 1250, code(0, 83)))
	if next.Status != ecrproto.StatusApproved {
		t.Fatalf("next sale on the lane: %+v, want APPROVED", next)
	}
	op := e.Op("1", "JF1")
	if op.State != queue.StateVoided {
		t.Fatalf("journal: %s, want voided", op.State)
	}
	checkLedgerAgrees(t, ledger(t, e.Sandbox.URL), op.PartnerTransID, res)
}

// TestScanWaitBoundedWhenJournalCannotVoid: nobody scans, and at the scan
// timeout the journal cannot void the sale (write lock held elsewhere).
// The runner's own bound (scan timeout + grace) still answers the SALE —
// DECLINED VOIDED, nothing was sent — and frees the lane. Before the fix
// the runner waited for the journal without a bound.
func TestScanWaitBoundedWhenJournalCannotVoid(t *testing.T) {
	t.Parallel() // own data dir and loopback ports; waits on timers, not the CPU
	e := startEnv(t, withBusyTimeout(200*time.Millisecond),
		daemonenv.WithSandbox(func(so *daemon.SandboxOptions) { so.Payment.ScanTimeout = time.Second }))
	saleRes, drop := e.startUntil(true, saleMsg("2", "SB1", 700, ""), ecrproto.EventWaitScan)
	defer drop()
	release := lockJournal(t, e)

	res := <-saleRes
	if res == nil || res.Status != ecrproto.StatusDeclined || res.Reason != daemon.ReasonVoided {
		t.Fatalf("SALE RESULT: %+v, want DECLINED VOIDED from the runner's own bound", res)
	}
	if abort, _ := e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeAbort, Lane: "2"}); abort.Code != ecrproto.CodeNotFound {
		t.Errorf("ABORT after the answer: %+v, want E_NOT_FOUND (the lane is free)", abort)
	}
	release()
	e.waitState("2", "SB1", queue.StateVoided)
	if st, _ := e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: "2", Ref: "SB1"}); st.Status != ecrproto.StatusDeclined || st.Reason != daemon.ReasonVoided {
		t.Fatalf("STATUS once voided: %+v", st)
	}
	checkLedgerAgrees(t, ledger(t, e.Sandbox.URL), e.Op("2", "SB1").PartnerTransID, res)
}

// TestPayWaitBoundedWhenJournalIsStuck: the pay was sent, then the journal
// can record nothing more (write lock held elsewhere): no outcome, no
// deadline cancel. The runner's own bound (pay deadline + cancel wait +
// grace) still answers the SALE — PENDING, never a guessed outcome — and
// frees the lane; once the journal writes again STATUS gives the true
// outcome and the ledger agrees. Before the fix the runner waited forever.
func TestPayWaitBoundedWhenJournalIsStuck(t *testing.T) {
	t.Parallel() // own data dir and loopback ports; waits on timers, not the CPU
	e := startEnv(t, withBusyTimeout(200*time.Millisecond),
		daemonenv.WithSandbox(func(so *daemon.SandboxOptions) { so.Payment.CancelWait = time.Second }))
	saleRes, drop := e.startUntil(false, saleMsg("3", "PB1", 900, code(10, 91)), ecrproto.EventSent)
	defer drop()
	release := lockJournal(t, e)

	res := <-saleRes
	if res == nil || res.Status != ecrproto.StatusPending {
		t.Fatalf("SALE RESULT: %+v, want PENDING from the runner's own bound", res)
	}
	if abort, _ := e.Do(enc(false), &ecrproto.Message{Type: ecrproto.TypeAbort, Lane: "3"}); abort.Code != ecrproto.CodeNotFound {
		t.Errorf("ABORT after the answer: %+v, want E_NOT_FOUND (the lane is free)", abort)
	}
	release()
	final := e.StatusUntilFinal(enc(true), "3", "PB1")
	// CANCELLED may be answered as soon as the daemon has durably taken on
	// the duty to cancel (invariant 3); the ledger agrees once the journal
	// has carried the cancel out.
	op := e.OpUntilFinal("3", "PB1")
	checkLedgerAgrees(t, ledger(t, e.Sandbox.URL), op.PartnerTransID, final)
}
