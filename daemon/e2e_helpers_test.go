package daemon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// testBound bounds every wait of these tests: a hung daemon fails the
// test instead of hanging it. No test asserts on durations.
const testBound = daemonenv.Bound

// env is a daemon on an in-process sandbox (daemonenv) with this
// package's helpers.
type env struct{ *daemonenv.Env }

// startEnv starts the sandbox and the daemon (4 lanes) and waits until it
// is ready.
func startEnv(t testing.TB, opts ...daemonenv.Option) *env {
	t.Helper()
	return &env{daemonenv.Start(t, opts...)}
}

// startCtlEnv is startEnv with the 2 lanes of the control tests.
func startCtlEnv(t testing.TB, opts ...daemonenv.Option) *env {
	t.Helper()
	return startEnv(t, append([]daemonenv.Option{daemonenv.Lanes(2)}, opts...)...)
}

// enc is the client options of an encoding: JSON lines or framed.
func enc(framed bool) *ecrproto.ClientOptions { return &ecrproto.ClientOptions{Framed: framed} }

// dialWithEvents connects a client whose EVENTs go to on.
func dialWithEvents(e *env, framed bool, on func(*ecrproto.Message)) (*ecrproto.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	return ecrproto.Dial(ctx, "tcp", e.ECR, &ecrproto.ClientOptions{Framed: framed, OnEvent: on})
}

// doBounded sends m and returns the final answer, or nil on a transport
// failure.
func doBounded(c *ecrproto.Client, m *ecrproto.Message) *ecrproto.Message {
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	res, err := c.Do(ctx, m)
	if err != nil {
		return nil
	}
	return res
}

func saleMsg(lane, ref string, amount int64, code string) *ecrproto.Message {
	return &ecrproto.Message{Type: ecrproto.TypeSale, Lane: lane, Ref: ref, Amount: ecrproto.Int(amount),
		Currency: "HKD", Barcode: code}
}

// code returns an 18-digit sandbox buyer code ending in scenario sc.
func code(sc int, n int) string { return daemonenv.Code(sc, n) }

// ledger reads the sandbox's GET /sandbox/trades, by partner_trans_id.
func ledger(t testing.TB, baseURL string) map[string]sandbox.Trade {
	t.Helper()
	resp, err := http.Get(baseURL + "/sandbox/trades")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var trades []sandbox.Trade
	if err := json.NewDecoder(resp.Body).Decode(&trades); err != nil {
		t.Fatal(err)
	}
	out := map[string]sandbox.Trade{}
	for _, tr := range trades {
		out[tr.PartnerTransID] = tr
	}
	return out
}

// checkLedgerAgrees checks that the gateway's ledger matches what the ECR
// heard for the sale: APPROVED is a paid trade with the same Alipay id;
// DECLINED/CANCELLED is no trade, or a closed one.
func checkLedgerAgrees(t testing.TB, trades map[string]sandbox.Trade, ptid string, res *ecrproto.Message) {
	t.Helper()
	if res.Status == ecrproto.StatusApproved && res.AlipayTransID == "" {
		t.Fatalf("ECR heard APPROVED without an Alipay id")
	}
	if err := agree(trades, ptid, res); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }
