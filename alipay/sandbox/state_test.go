package sandbox_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3" for a foreign database

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

func TestState_RestartMidScenario10(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	e := newEnv(t, func(c *sandbox.Config) { c.StateFile = path })
	expect(t, e.pay("ST-10", 10, "9.99"), map[string]string{"result_code": "UNKNOW"})
	aid := e.trade("ST-10").AlipayTransID
	e.pay("ST-0", 0, "1.00")
	e.refund("ST-0", "ST-0-r", "0.50", "USD")

	// A second server on the same file, as after a crash: the first one
	// is never closed, so only the per-change writes count.
	e.clock.Advance(3 * time.Second)
	e2 := newEnv(t, func(c *sandbox.Config) { c.StateFile = path; c.Clock = e.clock.Now })
	expect(t, e2.query("ST-10"), map[string]string{"alipay_trans_status": "WAIT_BUYER_PAY", "alipay_trans_id": aid})
	e.clock.Advance(5 * time.Second)
	expect(t, e2.query("ST-10"), map[string]string{"alipay_trans_status": "TRADE_SUCCESS", "alipay_pay_time": "20240110120008"})
	if tr := e2.trade("ST-0"); tr.Refunded != 50 || len(tr.Refunds) != 1 {
		t.Errorf("refund lost across restart: %+v", tr)
	}
	// Refund ids stay idempotent and Alipay ids unique after the restart.
	expect(t, e2.refund("ST-0", "ST-0-r", "0.50", "USD"), map[string]string{"result_code": "SUCCESS"})
	if tr := e2.trade("ST-0"); tr.Refunded != 50 {
		t.Errorf("idempotent refund applied twice after restart: %+v", tr)
	}
	if got := e2.pay("ST-NEW", 0, "1.00")["alipay_trans_id"]; got == aid || got == e2.trade("ST-0").AlipayTransID {
		t.Errorf("Alipay id %s reused after restart", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, en := range entries {
		if n := en.Name(); n != "sandbox.db" && n != "sandbox.db-wal" && n != "sandbox.db-shm" {
			t.Errorf("state dir holds %s, want only the database and its WAL files", n)
		}
	}
}

// TestState_EveryChangeSurvives restarts after every kind of change, the
// first server never closed (a killed process): the second one sees the
// same ledger.
func TestState_EveryChangeSurvives(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	e := newEnv(t, func(c *sandbox.Config) { c.StateFile = path })
	e.pay("EV-PAID", 0, "10.00")
	e.refund("EV-PAID", "EV-PAID-r1", "2.50", "USD")
	e.refund("EV-PAID", "EV-PAID-r2", "1.50", "USD")
	e.pay("EV-PAID", 0, "10.00") // a re-sent pay counts
	e.pay("EV-CANC", 0, "4.00")
	e.cancel("EV-CANC")
	e.pay("EV-WAIT", 11, "3.00")
	e.pay("EV-DECL", 20, "1.00")
	want := e.sb.Trades()

	e2 := newEnv(t, func(c *sandbox.Config) { c.StateFile = path; c.Clock = e.clock.Now })
	got := e2.sb.Trades()
	if len(got) != len(want) {
		t.Fatalf("%d trades after restart, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(normTimes(got[i]), normTimes(want[i])) {
			t.Errorf("after restart\n got %+v\nwant %+v", got[i], want[i])
		}
	}
	// The refund ids are indexed again: a reused one on another trade is refused.
	expect(t, e2.refund("EV-PAID", "EV-PAID-r3", "6.00", "USD"), map[string]string{"result_code": "SUCCESS"})
	expect(t, e2.refund("EV-PAID", "EV-PAID-r4", "0.01", "USD"), map[string]string{"error": "TRADE_STATUS_ERROR"})
}

// normTimes puts a trade's times in UTC so that a loaded trade compares
// equal to the one saved (the instants are the same).
func normTimes(tr sandbox.Trade) sandbox.Trade {
	utc := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		x := p.UTC()
		return &x
	}
	tr.Created, tr.Paid, tr.Closed = tr.Created.UTC(), utc(tr.Paid), utc(tr.Closed)
	for i := range tr.Refunds {
		tr.Refunds[i].Time = tr.Refunds[i].Time.UTC()
	}
	return tr
}

func TestState_CloseFlushesQueryCounters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	e := newEnv(t, func(c *sandbox.Config) { c.StateFile = path })
	e.pay("QC-1", 0, "1.00")
	e.query("QC-1")
	e.query("QC-1")
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}
	// After Close the ledger stays readable and a change answers SYSTEM_ERROR.
	if _, ok := e.sb.Trade("QC-1"); !ok {
		t.Error("ledger lost at Close")
	}
	expect(t, e.pay("QC-2", 0, "1.00"), map[string]string{"result_code": "UNKNOW", "error": "SYSTEM_ERROR"})
	sb, err := sandbox.New(sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if tr, ok := sb.Trade("QC-1"); !ok || tr.Calls.Query != 2 || tr.Calls.Pay != 1 {
		t.Errorf("after Close and New: %+v", tr)
	}
}

func TestState_BadFileRefused(t *testing.T) {
	foreign := filepath.Join(t.TempDir(), "journal.db")
	db, err := sql.Open("sqlite3", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE operations (id TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tests := []struct {
		name, content, file, reason string
	}{
		{"garbage", "this is not a database, not even close", "", "not an SQLite database"},
		{"truncated header", "SQLite format 3\x00" + strings.Repeat("\xff", 80), "", "not a database"},
		{"JSON of an earlier version", `{"version":1,"trades":[`, "", "ImportStateFile"},
		{"another SQLite database", "", foreign, "not a sandbox state file"},
		{"missing directory", "", filepath.Join(t.TempDir(), "gone", "s.db"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.file
			if path == "" {
				path = filepath.Join(t.TempDir(), "sandbox.db")
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			_, err := sandbox.New(sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, StateFile: path})
			var se *sandbox.StateError
			if !errors.As(err, &se) || se.Op != "load" || se.Path != path || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("New = %v, want a load StateError on %s saying %q", err, path, tc.reason)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the refused file was modified")
			}
		})
	}
}

func TestState_FailedCommitAnswersSystemError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	var fail atomic.Bool
	e := newEnv(t, func(c *sandbox.Config) { c.StateFile = path; sandbox.FailCommits(c, &fail) })
	fail.Store(true)
	expect(t, e.pay("UW-1", 0, "1.00"), map[string]string{"result_code": "UNKNOW", "error": "SYSTEM_ERROR"})
	fail.Store(false)
	// The trade was kept in memory, like a gateway that may or may not have
	// committed: the re-sent pay learns it was paid, and now it is saved.
	expect(t, e.pay("UW-1", 0, "1.00"), map[string]string{"result_code": "SUCCESS"})
	e2 := newEnv(t, func(c *sandbox.Config) { c.StateFile = path })
	if tr := e2.trade("UW-1"); tr.Calls.Pay != 2 || tr.Status != sandbox.StatusTradeSuccess {
		t.Errorf("after the failed then good commit: %+v", tr)
	}
}

func TestState_ImportJSON(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "sandbox-state.json")
	b, err := os.ReadFile(filepath.Join("testdata", "state-v1.json")) // written by the JSON store
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(legacy, b, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sandbox-state.db")
	var logs bytes.Buffer
	e := newEnv(t, func(c *sandbox.Config) {
		c.StateFile, c.ImportStateFile = path, legacy
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !strings.Contains(logs.String(), "imported") || !strings.Contains(logs.String(), "trades=3") {
		t.Errorf("no import log line: %s", logs.String())
	}
	paid := e.trade("LEG-PAID")
	if paid.Refunded != 400 || len(paid.Refunds) != 2 || paid.Refunds[1].PartnerRefundID != "LEG-PAID-r2" ||
		paid.Calls != (sandbox.Calls{Pay: 1, Query: 1, Refund: 2}) {
		t.Errorf("imported paid trade: %+v", paid)
	}
	e.clock.Advance(time.Second) // the file's cancel was made 1 s after noon
	if c := e.trade("LEG-CANC"); c.ClosedBy != sandbox.ClosedByCancel {
		t.Errorf("imported cancelled trade: %+v", c)
	}
	// Scenario 10 goes on from its stored plan (paid 8 s after noon);
	// refund ids stay idempotent; new Alipay ids follow the imported ones.
	expect(t, e.query("LEG-WAIT"), map[string]string{"alipay_trans_status": "WAIT_BUYER_PAY"})
	e.clock.Advance(7 * time.Second)
	expect(t, e.query("LEG-WAIT"), map[string]string{"alipay_trans_status": "TRADE_SUCCESS"})
	expect(t, e.refund("LEG-PAID", "LEG-PAID-r1", "2.50", "USD"), map[string]string{"result_code": "SUCCESS"})
	if tr := e.trade("LEG-PAID"); tr.Refunded != 400 {
		t.Errorf("imported refund applied twice: %+v", tr)
	}
	if got := e.pay("NEW-1", 0, "1.00")["alipay_trans_id"]; got != "2024011022001000000000000004" {
		t.Errorf("first Alipay id after the import = %s, want sequence 4", got)
	}

	// Imported once: a later start reads only the database.
	if err := os.WriteFile(legacy, []byte(`{"version":1,"seq":9,"trades":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, func(c *sandbox.Config) { c.StateFile, c.ImportStateFile = path, legacy })
	if n := len(e2.sb.Trades()); n != 4 {
		t.Errorf("%d trades after a second start, want 4", n)
	}
}

func TestState_ImportJSONCorrupt(t *testing.T) {
	dir := t.TempDir()
	legacy, path := filepath.Join(dir, "sandbox-state.json"), filepath.Join(dir, "sandbox-state.db")
	if err := os.WriteFile(legacy, []byte(`{"version":1,"trades":[`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, StateFile: path, ImportStateFile: legacy}
	_, err := sandbox.New(cfg)
	var se *sandbox.StateError
	if !errors.As(err, &se) || se.Op != "import" || se.Path != legacy {
		t.Fatalf("New = %v, want an import StateError on %s", err, legacy)
	}
	// Nothing was committed: once the file is fixed, the import happens.
	b, _ := os.ReadFile(filepath.Join("testdata", "state-v1.json"))
	if err := os.WriteFile(legacy, b, 0o600); err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if n := len(sb.Trades()); n != 3 {
		t.Errorf("%d trades imported after the fix, want 3", n)
	}
}

func TestConfig_Errors(t *testing.T) {
	merchant, _ := rsaKeys(t)
	tests := []struct {
		name  string
		cfg   sandbox.Config
		field string
	}{
		{"no partner", sandbox.Config{MD5Key: testMD5Key}, "Partner"},
		{"short partner", sandbox.Config{Partner: "2088123", MD5Key: testMD5Key}, "Partner"},
		{"no key", sandbox.Config{Partner: testPartner}, "MD5Key"},
		{"half RSA", sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, MerchantPublicKey: &merchant.PublicKey}, "AlipayPrivateKey"},
		{"negative delay", sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, ConfirmDelay: -1}, "ConfirmDelay"},
		{"bad rate", sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, ExchangeRates: map[string]string{"HKD": "x"}}, "ExchangeRates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sandbox.New(tc.cfg)
			var ce *sandbox.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("New = %v, want ConfigError on %s", err, tc.field)
			}
		})
	}
}

func TestLedger_JSON(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.ExchangeRates = map[string]string{"HKD": "0.92"} })
	mustT(t, e.call(sandbox.ServicePay, payParams("LG-1", code(0), "100.00", "HKD")))
	e.refund("LG-1", "LG-1-r1", "40.00", "HKD")
	e.query("LG-1")
	e.pay("LG-2", 11, "1.00")
	e.cancel("LG-2")
	code, body := e.getText("/sandbox/trades")
	if code != http.StatusOK {
		t.Fatalf("GET trades: %d", code)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 2 {
		t.Fatalf("trades JSON: %v\n%s", err, body)
	}
	first := got[0]
	for k, want := range map[string]any{"partner_trans_id": "LG-1", "status": "TRADE_SUCCESS", "amount": 10000.0,
		"currency": "HKD", "exchange_rate": "0.92000000", "buyer_code": "**************3400", "refunded": 4000.0} {
		if first[k] != want {
			t.Errorf("%s = %v, want %v", k, first[k], want)
		}
	}
	if strings.Contains(body, code0Full()) {
		t.Error("ledger shows a full buyer code")
	}
	refunds, _ := first["refunds"].([]any)
	calls, _ := first["calls"].(map[string]any)
	if len(refunds) != 1 || calls["query"] != 1.0 || calls["pay"] != 1.0 || calls["refund"] != 1.0 {
		t.Errorf("refunds %v calls %v", refunds, calls)
	}
	if got[1]["closed_by"] != "cancel" || got[1]["cancel_action"] != "close" || got[1]["status"] != "TRADE_CLOSED" {
		t.Errorf("second trade: %v", got[1])
	}
	if _, body := (newEnv(t, nil)).getText("/sandbox/trades"); strings.TrimSpace(body) != "[]" {
		t.Errorf("empty ledger = %s", body)
	}
}

func code0Full() string { return code(0) }
