package queue

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openRaw opens a bare SQLite file with the journal's settings (WAL, the
// same synchronous mode, one connection) and a one-table schema: the
// baseline a journal transition is compared with.
func openRaw(b *testing.B, mode SyncMode) *sql.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := sql.Open("sqlite3", dsn(path, Config{Sync: mode, BusyTimeout: 5 * time.Second}, false))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkDurableTransition compares one durable journal transition (the
// write-ahead record of a gateway attempt: operation row updated, event
// appended, committed) with a raw single-row insert-and-commit on a file
// with the same settings, interleaved in the same run.
func BenchmarkDurableTransition(b *testing.B) {
	for _, mode := range []SyncMode{SyncFull, SyncNormal} {
		b.Run("sync="+string(mode), func(b *testing.B) {
			raw := openRaw(b, mode)
			e, err := Open(context.Background(), filepath.Join(b.TempDir(), "j.db"), &fakeGateway{},
				Config{Sync: mode})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = e.Close(context.Background()) })
			ctx := context.Background()
			submitted, err := e.SubmitSale(ctx, Sale{Lane: "1", Ref: "r", Amount: 1, Currency: "HKD"})
			op := submitted.Op
			if err != nil {
				b.Fatal(err)
			}
			var rawT, jT time.Duration
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				if _, err := raw.Exec("INSERT INTO t (v) VALUES (?)", "attempt"); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				c := attempt(to(op, StateWaitingScan, EventAttempt, t1), CallQuery, t1.Add(time.Hour))
				if err := e.write(ctx, func(_ *sql.Tx, rec *recorder) error {
					op, err = rec.apply(c)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				rawT, jT = rawT+t1.Sub(t0), jT+time.Since(t1)
			}
			n := float64(b.N)
			b.ReportMetric(n/rawT.Seconds(), "raw_commits/s")
			b.ReportMetric(n/jT.Seconds(), "journal_commits/s")
			b.ReportMetric(rawT.Seconds()/jT.Seconds(), "ratio")
		})
	}
}

// BenchmarkBatchedTransitions measures the scheduler's group commit: the
// write-ahead records of 16 due attempts committed in one transaction (as
// a scheduler pass does), against raw single-row commits, sync=FULL.
func BenchmarkBatchedTransitions(b *testing.B) {
	const batch = 16
	raw := openRaw(b, SyncFull)
	e, err := Open(context.Background(), filepath.Join(b.TempDir(), "j.db"), &fakeGateway{}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close(context.Background()) })
	ctx := context.Background()
	ops := make([]Operation, batch)
	for i := range ops {
		submitted, err := e.SubmitSale(ctx, Sale{Lane: fmt.Sprint(i), Ref: "r", Amount: 1, Currency: "HKD"})
		if err != nil {
			b.Fatal(err)
		}
		ops[i] = submitted.Op
	}
	var rawT, jT time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := raw.Exec("INSERT INTO t (v) VALUES (?)", "attempt"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := e.write(ctx, func(_ *sql.Tx, rec *recorder) error {
			for i, op := range ops {
				c := attempt(to(op, StateWaitingScan, EventAttempt, t1), CallQuery, t1.Add(time.Hour))
				if ops[i], err = rec.apply(c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		rawT, jT = rawT+t1.Sub(t0), jT+time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(n/rawT.Seconds(), "raw_commits/s")
	b.ReportMetric(n*batch/jT.Seconds(), "transitions/s")
	b.ReportMetric((n*batch/jT.Seconds())/(n/rawT.Seconds()), "ratio")
}

// seedJournal writes n non-final operations (a fifth in each non-final
// state, refunds with their paid sales) into a closed journal at path.
func seedJournal(b *testing.B, path string, n int) {
	b.Helper()
	ctx := context.Background()
	e, err := Open(ctx, path, &fakeGateway{}, Config{MaxOpen: -1})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	states := []State{StateWaitingScan, StatePaying, StateQuerying, StateCancelling, StateRefunding}
	err = e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		for i := range n {
			s := states[i%len(states)]
			op, err := e.newSale(Sale{Lane: fmt.Sprint(i % 20), Ref: fmt.Sprint("r", i), Amount: 100,
				Currency: "HKD", Terminal: "T1"})
			if err != nil {
				return err
			}
			op.State, op.NextAttemptAt, op.PaySentAt = s, now.Add(time.Duration(i)*time.Millisecond), now
			if s == StateRefunding {
				op.State, op.NextAttemptAt, op.FinalAt = StatePaid, time.Time{}, now
			}
			if err := insertOp(ctx, tx, op); err != nil {
				return err
			}
			if err := rec.event(Event{OpID: op.ID, Name: EventSent, From: s, To: s, At: now}); err != nil {
				return err
			}
			if s == StateRefunding {
				r, err := e.newRefundOp(Refund{Lane: op.Lane, RefundRef: op.Ref, Amount: 100, Currency: "HKD"}, op, now)
				if err != nil {
					return err
				}
				if err := insertOp(ctx, tx, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRecovery10k measures a restart with 10 000 non-final operations:
// Open (pragmas, migrations check, the recovery transaction that voids the
// waiting sales and turns paying ones into querying) plus the scheduler's
// first look at everything due.
func BenchmarkRecovery10k(b *testing.B) {
	const n = 10000
	dir := b.TempDir()
	seed := filepath.Join(dir, "seed.db")
	seedJournal(b, seed, n)
	ctx := context.Background()
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		path := filepath.Join(dir, fmt.Sprint("j", i, ".db"))
		b.StopTimer()
		copyFile(b, seed, path)
		b.StartTimer()
		t0 := time.Now()
		e, err := Open(ctx, path, &fakeGateway{}, Config{})
		if err != nil {
			b.Fatal(err)
		}
		due, err := dueOps(ctx, e.st.r, time.Now().Add(time.Hour), 2*n)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		if len(due) != n-n/5 { // the waiting sales were voided
			b.Fatalf("%d due after recovery, want %d", len(due), n-n/5)
		}
		b.StopTimer()
		_ = e.Close(ctx)
		_ = os.Remove(path)
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms/recovery")
}
