package sandbox_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

func TestState_RestartMidScenario10(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
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
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only the state file", len(entries))
	}
}

func TestState_CloseFlushesQueryCounters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	e := newEnv(t, func(c *sandbox.Config) { c.StateFile = path })
	e.pay("QC-1", 0, "1.00")
	e.query("QC-1")
	e.query("QC-1")
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := sb.Trade("QC-1"); !ok || tr.Calls.Query != 2 || tr.Calls.Pay != 1 {
		t.Errorf("after Close and New: %+v", tr)
	}
}

func TestState_CorruptFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"trades":[`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sandbox.New(sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, StateFile: path})
	var se *sandbox.StateError
	if !errors.As(err, &se) || se.Op != "load" {
		t.Fatalf("New with a corrupt state file = %v", err)
	}
}

func TestState_UnwritableFileAnswersSystemError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	e := newEnv(t, func(c *sandbox.Config) { c.StateFile = filepath.Join(dir, "s.json") })
	expect(t, e.pay("UW-1", 0, "1.00"), map[string]string{"result_code": "UNKNOW", "error": "SYSTEM_ERROR"})
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The trade was kept in memory, like a gateway that may or may not have
	// committed: the re-sent pay learns it was paid.
	expect(t, e.pay("UW-1", 0, "1.00"), map[string]string{"result_code": "SUCCESS"})
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
