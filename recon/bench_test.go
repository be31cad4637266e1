package recon_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/recon"
	"github.com/tillbridge/tillbridge/recon/parse"
)

// benchLines is the size of the benchmark day: 100 000 file lines against
// a 100 000-operation journal.
const benchLines = 100_000

// benchDay builds (once per directory) a journal of n paid sales of
// testDay, written straight into the queue's schema in one transaction (the
// engine would take minutes at one fsync per sale), and the transaction
// file listing every one of them.
func benchDay(b *testing.B, dir string, n int) (journal, file string) {
	b.Helper()
	ctx := context.Background()
	journal = filepath.Join(dir, "journal.db")
	e, err := queue.Open(ctx, journal, idleGateway{}, queue.Config{})
	if err != nil {
		b.Fatal(err)
	}
	e.Close(ctx)
	db, err := sql.Open("sqlite3", journal)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO operations (id, kind, lane, ref, state, partner_trans_id, amount, currency,
		terminal, alipay_trans_id, paid_at, created_at, updated_at, final_at)
		VALUES (?, 'sale', '1', ?, 'paid', ?, ?, 'HKD', 'T01', ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 3, 4, 0, 0, 0, 0, parse.Beijing())
	var f strings.Builder
	fmt.Fprintf(&f, "Partner:%s|Payment_time: %s|Total_count:%d\n%s\n", testPartner, testDay, n, columnLine)
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * 800 * time.Millisecond)
		ptid := fmt.Sprintf("TBT01%s%08d", at.UTC().Format("20060102150405"), i)
		aid := fmt.Sprintf("2026030422001%015d", i)
		amount := int64(100 + i%5000)
		ms := at.UnixMilli()
		if _, err := ins.Exec(fmt.Sprintf("OP%024d", i), fmt.Sprint("r", i), ptid, amount, aid, ms, ms, ms, ms); err != nil {
			b.Fatal(err)
		}
		amt := parse.FormatMinor(amount, "HKD")
		fmt.Fprintf(&f, "%s|%s|%s|0.00|HKD|%s|PAYMENT||7991|Venue|Main Gate|paymentQrCode|HKD|%s|1.00000000\n",
			ptid, aid, amt, at.Format(time.DateTime), amt)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	file = filepath.Join(dir, "txn.txt")
	if err := os.WriteFile(file, []byte(f.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return journal, file
}

// BenchmarkReadFile is the baseline: reading and parsing the 100 000-line
// transaction file alone.
func BenchmarkReadFile(b *testing.B) {
	_, file := benchDay(b, b.TempDir(), benchLines)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	defer func() { reportCPU(b, start) }()
	for b.Loop() {
		raw, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		f, err := parse.ParseTransactions("txn.txt", raw, parse.CharsetAuto)
		if err != nil || len(f.Records) != benchLines {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadJournal is the other input alone: reading the 100 000
// operations from the journal, read-only.
func BenchmarkReadJournal(b *testing.B) {
	journal, _ := benchDay(b, b.TempDir(), benchLines)
	since := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	defer func() { reportCPU(b, start) }()
	for b.Loop() {
		js, err := recon.ReadJournals(context.Background(), []string{journal}, since)
		if err != nil || len(js[0].Ops) != benchLines {
			b.Fatal(err)
		}
	}
}

// BenchmarkReconcile reconciles the 100 000-line file against the
// 100 000-operation journal (read-only open, read, parse, match, totals;
// no recon database).
func BenchmarkReconcile(b *testing.B) {
	journal, file := benchDay(b, b.TempDir(), benchLines)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	defer func() { reportCPU(b, start) }()
	for b.Loop() {
		res, err := recon.Reconcile(context.Background(), recon.Options{Day: testDay, TransactionFile: file,
			Journals: []string{journal}})
		if err != nil {
			b.Fatal(err)
		}
		if res.Report.Counts[recon.ClassMatched] != benchLines || res.Report.Exceptions != 0 {
			b.Fatalf("counts %v", res.Report.Counts)
		}
	}
}

// idleGateway is never called: the engine is opened only to create the
// journal's schema.
type idleGateway struct{}

func (idleGateway) Pay(context.Context, queue.PayRequest) (queue.PayResult, error) {
	return queue.PayResult{}, nil
}
func (idleGateway) Query(context.Context, string) (queue.QueryResult, error) {
	return queue.QueryResult{}, nil
}
func (idleGateway) Cancel(context.Context, string) (queue.CancelResult, error) {
	return queue.CancelResult{}, nil
}
func (idleGateway) Refund(context.Context, queue.RefundRequest) (queue.RefundResult, error) {
	return queue.RefundResult{}, nil
}

// reportCPU adds the CPU seconds per op (all threads: the parse, the
// journal read and the garbage collector) as a metric.
func reportCPU(b *testing.B, start time.Duration) {
	if d := cpuTime() - start; d > 0 && b.N > 0 {
		b.ReportMetric(d.Seconds()/float64(b.N), "cpu-s/op")
	}
}
