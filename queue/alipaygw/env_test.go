package alipaygw_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/queue/alipaygw"
)

const (
	testPartner = "2088101122136241"
	testMD5Key  = "10000000000000000000000000000000"
)

// scenarioCodes are every sandbox scenario (docs/sandbox.md), as buyer
// codes: 18 digits starting with 28, the last two picking the behaviour.
func scenarioCodes() []string {
	var out []string
	for _, s := range []string{"00", "10", "11", "12", "20", "21", "30", "31", "32", "33", "34", "35"} {
		out = append(out, "2812345678901234"+s)
	}
	return out
}

// sandboxConfig is the sandbox with delays short enough for tests.
func sandboxConfig(stateFile string) sandbox.Config {
	return sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, StateFile: stateFile,
		ConfirmDelay: 300 * time.Millisecond, RejectDelay: 200 * time.Millisecond,
		SlowPayDelay: 1200 * time.Millisecond}
}

// fastEngine is the engine with the seed's lifecycle scaled down ~30×.
func fastEngine() queue.Config {
	return queue.Config{FirstQuery: 100 * time.Millisecond, QueryInterval: 100 * time.Millisecond,
		PayDeadline: 2 * time.Second, BackoffMin: 50 * time.Millisecond,
		BackoffMax: 400 * time.Millisecond, CallTimeout: 5 * time.Second}
}

// newClient returns an MD5 client for the sandbox at base.
func newClient(t testing.TB, base string) *alipay.Client {
	t.Helper()
	c, err := alipay.NewClient(clientConfig(base))
	if err != nil {
		t.Fatalf("alipay.NewClient: %v", err)
	}
	return c
}

// clientConfig is an MD5 client of the sandbox at base.
func clientConfig(base string) alipay.Config {
	return alipay.Config{GatewayURL: base + "/gateway.do", Partner: testPartner,
		SignType: alipay.SignMD5, MD5Key: testMD5Key, Timeout: 700 * time.Millisecond,
		Extend: alipay.ExtendInfo{SecondaryMerchantID: "S1", StoreID: "ST1"}}
}

// startSandbox serves a sandbox on loopback.
func startSandbox(t testing.TB, stateFile string) (*sandbox.Server, string) {
	t.Helper()
	sb, err := sandbox.New(sandboxConfig(stateFile))
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); _ = sb.Close() })
	return sb, srv.URL
}

// openEngine opens a journal in dir against the sandbox at base.
func openEngine(t testing.TB, path, base string, cfg queue.Config) *queue.Engine {
	t.Helper()
	e, err := queue.Open(context.Background(), path, alipaygw.New(newClient(t, base)), cfg)
	if err != nil {
		t.Fatalf("queue.Open: %v", err)
	}
	return e
}

// ledger reads GET /sandbox/trades, keyed by partner_trans_id.
func ledger(t testing.TB, base string) map[string]sandbox.Trade {
	t.Helper()
	resp, err := http.Get(base + "/sandbox/trades")
	if err != nil {
		t.Fatalf("GET /sandbox/trades: %v", err)
	}
	defer resp.Body.Close()
	var trades []sandbox.Trade
	if err := json.NewDecoder(resp.Body).Decode(&trades); err != nil {
		t.Fatalf("decode trades: %v", err)
	}
	out := map[string]sandbox.Trade{}
	for _, tr := range trades {
		if _, dup := out[tr.PartnerTransID]; dup {
			t.Errorf("two trades for partner_trans_id %s", tr.PartnerTransID)
		}
		out[tr.PartnerTransID] = tr
	}
	return out
}

// readJournal opens the journal without running it and lists everything.
func readJournal(t testing.TB, path string) []queue.Operation {
	t.Helper()
	e, err := queue.Open(context.Background(), path, deadGateway{}, queue.Config{})
	if err != nil {
		t.Fatalf("open journal %s: %v", filepath.Base(path), err)
	}
	defer e.Close(context.Background())
	ops, err := e.List(context.Background(), queue.Filter{Limit: 100000, Order: queue.OldestFirst})
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// deadGateway answers nothing; used to read a journal.
type deadGateway struct{}

func (deadGateway) Pay(context.Context, queue.PayRequest) (queue.PayResult, error) {
	return queue.PayResult{}, fmt.Errorf("not connected")
}
func (deadGateway) Query(context.Context, string) (queue.QueryResult, error) {
	return queue.QueryResult{}, fmt.Errorf("not connected")
}
func (deadGateway) Cancel(context.Context, string) (queue.CancelResult, error) {
	return queue.CancelResult{}, fmt.Errorf("not connected")
}
func (deadGateway) Refund(context.Context, queue.RefundRequest) (queue.RefundResult, error) {
	return queue.RefundResult{}, fmt.Errorf("not connected")
}

// checkAgainstLedger verifies the money-safety invariants between the
// journal and the gateway's ledger; trades maps partner_trans_id to trade and
// holds only the trades of this journal's sales (others are ignored). It
// returns the problems found.
func checkAgainstLedger(ops []queue.Operation, trades map[string]sandbox.Trade) []string {
	var bad []string
	refunds := map[string]int64{} // sale id → refunded amount
	sales := map[string]bool{}
	refs := map[string]bool{}
	for _, op := range ops {
		if !op.Final() || op.State == queue.StateManual && op.Reason == "" {
			bad = append(bad, fmt.Sprintf("%s %s not final (or manual without reason): %s", op.Kind, op.ID, op.State))
		}
		if op.Kind == queue.KindRefund && op.State == queue.StateRefunded {
			refunds[op.ParentID] += op.Amount
		}
		if op.Kind == queue.KindSale {
			key := op.Lane + "/" + op.Ref
			if refs[key] {
				bad = append(bad, "two sales for ref "+key)
			}
			refs[key], sales[op.PartnerTransID] = true, true
		}
	}
	for _, op := range ops {
		if op.Kind == queue.KindSale {
			bad = append(bad, checkSale(op, trades[op.PartnerTransID], refunds[op.ID])...)
		}
	}
	for id, tr := range trades {
		if !sales[id] {
			bad = append(bad, "trade "+id+" at the gateway has no sale in the journal")
		}
		if tr.Calls.Pay > 1 {
			bad = append(bad, fmt.Sprintf("trade %s was paid %d times", id, tr.Calls.Pay))
		}
	}
	return bad
}

// checkSale compares one sale with its trade (zero Trade when absent).
func checkSale(op queue.Operation, tr sandbox.Trade, refunded int64) []string {
	at := func(f string, a ...any) []string {
		return []string{fmt.Sprintf("sale %s (%s), trade %q closed_by %q: ", op.Ref, op.State,
			tr.Status, tr.ClosedBy) + fmt.Sprintf(f, a...)}
	}
	paidAtGateway := tr.Status == sandbox.StatusTradeSuccess
	refundedAtGateway := tr.Status == sandbox.StatusTradeClosed && tr.Paid != nil
	switch op.State {
	case queue.StatePaid:
		if !paidAtGateway && !(refundedAtGateway && tr.Refunded == refunded) {
			return at("paid in the journal, not at the gateway")
		}
	case queue.StateVoided:
		if tr.PartnerTransID != "" {
			return at("voided, yet a trade exists")
		}
	case queue.StateDeclined, queue.StateCancelled:
		if paidAtGateway {
			return at("money taken at the gateway, none in the journal")
		}
		if refundedAtGateway && tr.CancelAction != sandbox.ActionRefund && tr.Refunded != refunded {
			return at("refunded %d at the gateway, %d in the journal", tr.Refunded, refunded)
		}
		if tr.Status == sandbox.StatusWaitBuyerPay {
			return at("the trade is still open")
		}
	case queue.StateManual:
		if !strings.Contains(op.Reason, op.PartnerTransID) {
			return at("manual reason does not name the trade: %q", op.Reason)
		}
	}
	return nil
}

// runScheduler runs e's scheduler on a goroutine until halt, which stops
// it, waits for it and returns Run's error; ctx is the scheduler's.
func runScheduler(e *queue.Engine) (ctx context.Context, halt func() error) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return ctx, func() error { stop(); return <-done }
}

// journalAgrees reads the journal at path and the ledger of the sandbox
// at base, fails the test for every money-safety violation between them,
// and returns both.
func journalAgrees(t *testing.T, path, base string) ([]queue.Operation, map[string]sandbox.Trade) {
	t.Helper()
	ops, trades := readJournal(t, path), ledger(t, base)
	for _, p := range checkAgainstLedger(ops, trades) {
		t.Error(p)
	}
	return ops, trades
}
