package validate_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/validate"
)

const testPartner = "2088000000009999"

// configuredGateway is a sandbox standing in for Alipay's gateway, with a
// venue configuration pointing at it (MD5 key file, one lane with a file
// printer and a simulated scanner, short timings).
func configuredGateway(t *testing.T) (*daemon.Config, *sandbox.Server) {
	t.Helper()
	key := "0123456789abcdef0123456789ABCDEF"
	sb, err := sandbox.New(sandbox.Config{Partner: testPartner, MD5Key: key, ConfirmDelay: 300 * time.Millisecond,
		AutoClose: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "md5.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := daemon.NewConfig()
	c.Gateway.URL, c.Gateway.Partner, c.Gateway.MD5KeyFile = srv.URL+"/gateway.do", testPartner, keyFile
	c.Gateway.SecondaryMerchantID, c.Gateway.SecondaryMerchantName = "M-42", "Museum of Tests"
	c.Gateway.SecondaryMerchantIndustry, c.Gateway.StoreID, c.Gateway.StoreName = "7991", "S-1", "Main gate"
	c.Gateway.Timeout = time.Second
	p := &c.Payment
	p.FirstQuery, p.QueryInterval, p.PayDeadline = 100*time.Millisecond, 100*time.Millisecond, 2*time.Second
	p.BackoffMin, p.BackoffMax, p.CancelWait = 50*time.Millisecond, 200*time.Millisecond, 10*time.Second
	c.Printers = map[string]daemon.PrinterConfig{"p1": {Backend: "file", Width: 80, Path: filepath.Join(dir, "p1.escpos")}}
	c.Scanners = map[string]daemon.ScannerConfig{"s1": {Backend: "simulated"}}
	c.Lanes = []daemon.LaneConfig{{ID: "1", TerminalID: "T1", Printer: "p1", Scanner: "s1"}}
	return c, sb
}

// TestValidateConfiguredInteractive plays the person at the till: each
// prompt is answered with a code typed on stdin (sandbox scenario codes,
// since the "configured" gateway here is a sandbox). Sandbox-only cases do
// not apply; every test payment is refunded at the end.
func TestValidateConfiguredInteractive(t *testing.T) {
	cfg, sb := configuredGateway(t)
	var lines []string
	for i, sc := range []int{0, 10, 11, 0, 0, 0, 0} { // SPOT-001, 003, 004, CANCEL, REFUND, REFUND-REPEAT, LOST-RESULT
		lines = append(lines, fmt.Sprintf("2812345678%06d%02d", i, sc))
	}
	prompts := &testenv.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	rep, err := validate.Run(ctx, validate.Options{Against: validate.AgainstConfigured, Config: cfg, OutDir: t.TempDir(),
		In: strings.NewReader(strings.Join(lines, "\n") + "\n"), Out: prompts, StepTimeout: 30 * time.Second,
		Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		var b strings.Builder
		_ = validate.WriteText(&b, rep)
		t.Fatalf("run failed:\n%s\nprompts:\n%s", b.String(), prompts.String())
	}
	want := map[string]validate.Verdict{"SPOT-001": validate.Pass, "SPOT-002": validate.NotApplicable,
		"SPOT-003": validate.Pass, "SPOT-004": validate.Pass, "SPOT-005": validate.NotApplicable,
		"SPOT-006": validate.NotApplicable, "BALANCE": validate.NotApplicable, "INVALID-CODE": validate.Pass,
		"CANCEL": validate.Pass, "REFUND": validate.Pass, "REFUND-REPEAT": validate.Pass, "LOST-RESULT": validate.Pass,
		"KILL-9": validate.NotApplicable}
	for _, c := range rep.Cases {
		if c.Verdict != want[c.ID] {
			t.Errorf("%s: %s (%s), want %s", c.ID, c.Verdict, c.Reason, want[c.ID])
		}
		if c.Verdict == validate.Pass && c.Ledger.Available {
			t.Errorf("%s: a ledger check against a gateway without a ledger API", c.ID)
		}
	}
	if n := strings.Count(prompts.String(), ">>> "); n != len(lines) {
		t.Errorf("%d prompts, want %d:\n%s", n, len(lines), prompts.String())
	}
	if len(rep.Cleanup) != 4 { // SPOT-001, SPOT-003, REFUND-REPEAT's other half, LOST-RESULT
		t.Errorf("%d clean-up refunds, want 4: %+v", len(rep.Cleanup), rep.Cleanup)
	}
	paid := 0
	for _, tr := range sb.Trades() {
		if tr.Paid != nil {
			paid++
			if tr.Refunded != tr.Amount || tr.Status != sandbox.StatusTradeClosed {
				t.Errorf("test payment %s left with money: %s, refunded %d of %d", tr.PartnerTransID, tr.Status, tr.Refunded, tr.Amount)
			}
		}
	}
	if paid != 6 {
		t.Errorf("%d paid trades, want 6", paid)
	}
}

// TestValidateStepTimeout: nobody answers the prompt; the step times out,
// the sale is abandoned before anything was sent and the run fails.
func TestValidateStepTimeout(t *testing.T) {
	cfg, sb := configuredGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	prompts := &testenv.Buffer{}
	rep, err := validate.Run(ctx, validate.Options{Against: validate.AgainstConfigured, Config: cfg, OutDir: t.TempDir(),
		Cases: []string{"SPOT-001"}, In: strings.NewReader(""), Out: prompts, StepTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || rep.Cases[0].Verdict != validate.Fail || !strings.Contains(rep.Cases[0].Reason, "no answer within") {
		t.Fatalf("passed %v, case %+v", rep.Passed, rep.Cases[0])
	}
	if !strings.Contains(prompts.String(), "timed out") {
		t.Errorf("prompt output: %q", prompts.String())
	}
	if n := len(sb.Trades()); n != 0 {
		t.Errorf("%d trades at the gateway after an abandoned step", n)
	}
}

// TestValidatePreflightStopsTheRun: a configuration without the
// extend_info fields fails pre-flight and no case runs (no money moves).
func TestValidatePreflightStopsTheRun(t *testing.T) {
	cfg, sb := configuredGateway(t)
	cfg.Gateway.StoreID, cfg.Gateway.SecondaryMerchantID = "", ""
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	rep, err := validate.Run(ctx, validate.Options{Against: validate.AgainstConfigured, Config: cfg, OutDir: t.TempDir(),
		Cases: []string{"SPOT-001", "REFUND"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed {
		t.Fatal("passed without extend_info")
	}
	var found bool
	for _, c := range rep.Preflight {
		if c.Name == validate.CheckExtendInfo {
			found = !c.OK && strings.Contains(c.Detail, "store_id") && strings.Contains(c.Detail, "secondary_merchant_id")
		}
	}
	if !found {
		t.Errorf("extend_info check: %+v", rep.Preflight)
	}
	for _, c := range rep.Cases {
		if c.Verdict != validate.Fail || !strings.HasPrefix(c.Reason, "not run") {
			t.Errorf("%s ran: %s %s", c.ID, c.Verdict, c.Reason)
		}
	}
	if n := len(sb.Trades()); n != 0 {
		t.Errorf("%d trades at the gateway", n)
	}
}
