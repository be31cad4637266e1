package queue

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// crashMidPay leaves op as a crash after the pay's write-ahead commit would:
// paying, with no call made and no answer recorded.
func crashMidPay(t *testing.T, h *harness, op Operation) {
	t.Helper()
	ctx := context.Background()
	err := h.e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		cur, err := getOp(ctx, tx, op.ID)
		if err != nil {
			return err
		}
		_, err = rec.apply(h.e.payAttempt(cur, "281234567890123400"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRecoveryNeverRepays(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status TradeStatus
		want   State
	}{
		{"paid at the gateway", TradeSuccess, StatePaid},
		{"never arrived", TradeNotFound, StateCancelled},
		{"buyer still confirming", TradeWaitBuyerPay, StateCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			waiting := h.sale("w", 100)
			op := h.sale("r1", 100)
			crashMidPay(t, h, op)
			h.restart()
			h.want(waiting.ID, StateVoided)
			got := h.want(op.ID, StateQuerying)
			if names := h.names(op.ID); names[len(names)-1] != EventRecovered {
				t.Fatalf("events %v", names)
			}
			if !got.NextAttemptAt.Equal(h.clk.Now()) {
				t.Fatalf("recovered sale due at %v, want now", got.NextAttemptAt)
			}
			h.gw.set(func(g *fakeGateway) { g.query = queryStatus(tc.status); g.cancel = cancelOK })
			h.advance(61*time.Second, time.Second)
			h.want(op.ID, tc.want)
			if n := h.gw.count("pay"); n != 0 {
				t.Fatalf("%d pays after a restart", n)
			}
		})
	}
}

func TestOpenChecksTheJournal(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []SyncMode{SyncFull, SyncNormal} {
		path := filepath.Join(t.TempDir(), "j.db")
		e, err := Open(ctx, path, &fakeGateway{}, Config{Sync: mode})
		if err != nil {
			t.Fatal(err)
		}
		var jm string
		var syncLevel, fk, version int
		q := e.st.w
		_ = q.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&jm)
		_ = q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncLevel)
		_ = q.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
		_ = q.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_version").Scan(&version)
		if jm != "wal" || syncLevel != map[SyncMode]int{SyncFull: 2, SyncNormal: 1}[mode] || fk != 1 || version != 1 {
			t.Fatalf("%s: journal_mode %s synchronous %d foreign_keys %d version %d", mode, jm, syncLevel, fk, version)
		}
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	h := newHarness(t)
	op := h.sale("r", 1)
	ctx := context.Background()
	if _, err := h.e.st.w.ExecContext(ctx, "UPDATE events SET name = 'X' WHERE op_id = ?", op.ID); err == nil {
		t.Fatal("an event was updated")
	}
	if _, err := h.e.st.w.ExecContext(ctx, "DELETE FROM events"); err == nil {
		t.Fatal("events were deleted")
	}
	if _, err := h.e.st.w.ExecContext(ctx, `INSERT INTO events (op_id, at, name, from_state, to_state)
		VALUES ('nope', 0, 'X', 'a', 'b')`); err == nil {
		t.Fatal("an event for no operation was accepted (foreign keys off?)")
	}
}

func TestOpenFailures(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, garbage, &fakeGateway{}, Config{}); err == nil {
		t.Fatal("opened a file that is not a database")
	}
	if _, err := Open(ctx, filepath.Join(dir, "j.db"), &fakeGateway{}, Config{Sync: "OFF"}); !asErr(err, new(*ConfigError)) {
		t.Fatalf("bad sync mode: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(dir, "j.db"), nil, Config{}); !asErr(err, new(*ConfigError)) {
		t.Fatalf("nil gateway: %v", err)
	}
	// A journal written by a newer build is refused, and left closed: it
	// can be opened again at once.
	path := filepath.Join(dir, "new.db")
	e, err := Open(ctx, path, &fakeGateway{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.w.ExecContext(ctx, "INSERT INTO schema_version VALUES (99, '0099_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	_ = e.Close(ctx)
	_, err = Open(ctx, path, &fakeGateway{}, Config{})
	var se *SchemaError
	if !errors.As(err, &se) || se.Found != 99 {
		t.Fatalf("newer schema: %v", err)
	}
	db, err := sql.Open("sqlite3", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "BEGIN IMMEDIATE; DELETE FROM schema_version WHERE version = 99; COMMIT"); err != nil {
		t.Fatalf("journal still locked after a failed Open: %v", err)
	}
}

func TestReopenAppliesNoMigrationTwice(t *testing.T) {
	h := newHarness(t)
	op := h.sale("r", 1)
	h.restart()
	h.restart()
	var n int
	if err := h.e.st.r.QueryRow("SELECT COUNT(*) FROM schema_version").Scan(&n); err != nil || n != 1 {
		t.Fatalf("schema_version rows %d, %v", n, err)
	}
	names := h.names(op.ID)
	if !slices.Equal(names, []EventName{EventWaitScan, EventVoided}) {
		t.Fatalf("events %v", names)
	}
}
