package recon_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/queue/alipaygw"
	"github.com/tillbridge/tillbridge/recon"
	"github.com/tillbridge/tillbridge/recon/parse"
)

const (
	testPartner = "2088101122136241"
	testMD5Key  = "10000000000000000000000000000000"
	testDay     = "2026-03-04"
	codePaid    = "281234567890123400"
	codeDecline = "281234567890123420"
)

// day is a real day of sales: the sandbox as the gateway on loopback, the
// queue engine with its real journal, all on a clock that starts at 11:00
// Beijing time on testDay and runs at real speed.
type day struct {
	sb      *sandbox.Server
	dir     string
	journal string
	ops     map[string]queue.Operation // by ECR ref: paid1, paid2, cancel, declined, refund
	clock   func() time.Time
}

func testClock() func() time.Time {
	base := time.Date(2026, 3, 4, 11, 0, 0, 0, parse.Beijing())
	start := time.Now()
	return func() time.Time { return base.Add(time.Since(start)) }
}

// newDay runs the sales of a day on terminal T01: paid1 and paid2 paid
// (paid2 refunded 2.50), cancel paid then cancelled by the ECR, declined
// declined.
func newDay(t *testing.T) *day {
	t.Helper()
	clock := testClock()
	sb, err := sandbox.New(sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	d := &day{sb: sb, dir: t.TempDir(), ops: map[string]queue.Operation{}, clock: clock}
	d.journal = filepath.Join(d.dir, "journal.db")
	runSales(t, srv.URL, d.journal, "T01", clock, func(ctx context.Context, e *queue.Engine) {
		for ref, code := range map[string]string{"paid1": codePaid, "paid2": codePaid, "cancel": codePaid, "declined": codeDecline} {
			op, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: ref, Amount: 1250, Currency: "HKD",
				Subject: "Adult ticket", Terminal: "T01", BuyerCode: code})
			if err != nil {
				t.Fatalf("SubmitSale %s: %v", ref, err)
			}
			d.ops[ref] = waitFinal(t, e, op.Op.ID)
		}
		if _, err := e.Cancel(ctx, d.ops["cancel"].ID); err != nil {
			t.Fatal(err)
		}
		d.ops["cancel"] = waitFinal(t, e, d.ops["cancel"].ID)
		op, err := e.SubmitRefund(ctx, queue.Refund{Lane: "1", RefundRef: "refund", SaleID: d.ops["paid2"].ID,
			Amount: 250, Currency: "HKD"})
		if err != nil {
			t.Fatal(err)
		}
		d.ops["refund"] = waitFinal(t, e, op.ID)
	})
	want := map[string]queue.State{"paid1": queue.StatePaid, "paid2": queue.StatePaid, "cancel": queue.StateCancelled,
		"declined": queue.StateDeclined, "refund": queue.StateRefunded}
	for ref, st := range want {
		if d.ops[ref].State != st {
			t.Fatalf("%s is %s, want %s", ref, d.ops[ref].State, st)
		}
	}
	return d
}

// runSales opens a journal against the gateway at base, runs fn with the
// engine running, and closes it.
func runSales(t *testing.T, base, journal, terminal string, clock func() time.Time, fn func(context.Context, *queue.Engine)) {
	t.Helper()
	cl, err := alipay.NewClient(alipay.Config{GatewayURL: base + "/gateway.do", Partner: testPartner,
		SignType: alipay.SignMD5, MD5Key: testMD5Key, Timeout: 5 * time.Second,
		Extend: alipay.ExtendInfo{SecondaryMerchantID: "S1", StoreID: "ST1", TerminalID: terminal}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := queue.Open(ctx, journal, alipaygw.New(cl), queue.Config{Now: clock,
		BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	fn(ctx, e)
	cancel()
	<-done
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// waitFinal waits until the operation is final (the sandbox answers at once;
// the bound only keeps a broken engine from hanging the test).
func waitFinal(t *testing.T, e *queue.Engine, id string) queue.Operation {
	t.Helper()
	var op queue.Operation
	testenv.WaitFor(t, testenv.Bound, func() bool {
		var err error
		if op, err = e.Get(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return op.Final()
	}, "operation "+id+" final")
	return op
}

// files writes the sandbox's transaction file of testDay and the
// settlement file of the day after (which settles testDay's movements)
// into the day's folder.
func (d *day) files(t *testing.T) (txn, settle string) {
	t.Helper()
	dir := filepath.Join(d.dir, "alipay")
	today, err := d.sb.WriteFiles(dir, d.clock())
	if err != nil {
		t.Fatal(err)
	}
	next, err := d.sb.WriteFiles(dir, d.clock().AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	return today[0], next[1]
}

// reconcile reconciles testDay against the day's files and journal(s).
func (d *day) reconcile(t *testing.T, st *recon.Store, extraJournals ...string) *recon.Report {
	t.Helper()
	txn, settle := d.files(t)
	res, err := recon.Reconcile(context.Background(), recon.Options{Day: testDay, TransactionFile: txn,
		SettlementFile: settle, Journals: append([]string{d.journal}, extraJournals...), Store: st, Now: d.clock})
	if err != nil {
		raw, _ := os.ReadFile(txn)
		t.Fatalf("Reconcile: %v\n%s", err, raw)
	}
	return res.Report
}

// items returns the report's items of a class.
func items(r *recon.Report, c recon.Class) []recon.Item {
	var out []recon.Item
	for _, it := range r.Items {
		if it.Class == c {
			out = append(out, it)
		}
	}
	return out
}

func dump(r *recon.Report) string {
	var b bytes.Buffer
	_ = recon.WriteText(&b, r)
	return b.String()
}

// startGateway serves an existing sandbox on another loopback listener.
func startGateway(t *testing.T, sb *sandbox.Server) string {
	t.Helper()
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return srv.URL
}
