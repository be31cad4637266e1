package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// testBound bounds every wait of these tests: a hung daemon fails the
// test instead of hanging it. No test asserts on durations.
const testBound = 30 * time.Second

// fastPayment are the shortened lifecycle timings of the tests.
func fastPayment() daemon.PaymentConfig {
	p := daemon.NewConfig().Payment
	p.FirstQuery, p.QueryInterval, p.PayDeadline = 80*time.Millisecond, 80*time.Millisecond, 1500*time.Millisecond
	p.BackoffMin, p.BackoffMax, p.CancelWait = 50*time.Millisecond, 200*time.Millisecond, 10*time.Second
	p.ScanTimeout = 20 * time.Second
	return p
}

// fastGateway are the sandbox's scaled-down scenario delays; the slow pay
// answer (35) outlasts the test gateway timeout.
func fastGateway() sandbox.Config {
	return sandbox.Config{ConfirmDelay: 300 * time.Millisecond, RejectDelay: 250 * time.Millisecond,
		SlowPayDelay: 1200 * time.Millisecond, AutoClose: 30 * time.Second}
}

const testGatewayTimeout = 500 * time.Millisecond

// env is a daemon on an in-process sandbox, on loopback ports.
type env struct {
	t    testing.TB
	dir  string
	sb   *daemon.Sandbox
	d    *daemon.Daemon
	addr string
	stop context.CancelFunc
	done chan error
}

type envOption func(*daemon.SandboxOptions, *daemon.Options)

func withLanes(n int) envOption {
	return func(o *daemon.SandboxOptions, _ *daemon.Options) { o.Lanes = n }
}

func withDaemon(f func(*daemon.Options)) envOption {
	return func(_ *daemon.SandboxOptions, o *daemon.Options) { f(o) }
}

// startEnv starts the sandbox and the daemon and waits until it is ready.
func startEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	pay := fastPayment()
	so := daemon.SandboxOptions{DataDir: dir, ECRListen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0",
		Lanes: 4, Payment: &pay, GatewayTimeout: testGatewayTimeout, Gateway: fastGateway()}
	ready := make(chan []net.Addr, 1)
	do := daemon.Options{OnReady: func(a []net.Addr) { ready <- a }}
	for _, o := range opts {
		o(&so, &do)
	}
	sb, err := daemon.StartSandbox(so)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(sb.Config, do)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	e := &env{t: t, dir: dir, sb: sb, d: d, stop: stop, done: make(chan error, 1)}
	go func() { e.done <- d.Run(ctx) }()
	select {
	case a := <-ready:
		e.addr = a[0].String()
	case err := <-e.done:
		t.Fatalf("daemon stopped during start-up: %v", err)
	case <-time.After(testBound):
		t.Fatal("daemon not ready")
	}
	t.Cleanup(e.close)
	return e
}

func (e *env) close() {
	e.stop()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("daemon Run: %v", err)
		}
	case <-time.After(testBound):
		e.t.Error("daemon did not stop")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = e.sb.Close(ctx)
}

// collector gathers the EVENTs of one connection.
type collector struct {
	mu     sync.Mutex
	events []string
}

func (c *collector) add(m *ecrproto.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, m.Event)
}

func (c *collector) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

// dial connects a client in the given encoding, with an event collector.
func (e *env) dial(framed bool) (*ecrproto.Client, *collector) {
	e.t.Helper()
	col := &collector{}
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	c, err := ecrproto.Dial(ctx, "tcp", e.addr, &ecrproto.ClientOptions{Framed: framed, OnEvent: col.add})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, col
}

// do sends m on a fresh connection and returns the final answer and the
// events seen.
func (e *env) do(framed bool, m *ecrproto.Message) (*ecrproto.Message, []string) {
	e.t.Helper()
	c, col := e.dial(framed)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	res, err := c.Do(ctx, m)
	if err != nil {
		e.t.Fatalf("%s: %v", m.Type, err)
	}
	return res, col.list()
}

// dialWithEvents connects a client whose EVENTs go to on.
func dialWithEvents(e *env, framed bool, on func(*ecrproto.Message)) (*ecrproto.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	return ecrproto.Dial(ctx, "tcp", e.addr, &ecrproto.ClientOptions{Framed: framed, OnEvent: on})
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
func code(sc int, n int) string {
	return fmt.Sprintf("28%014d%02d", n, sc)
}

// statusUntilFinal asks STATUS until the answer is not PENDING.
func (e *env) statusUntilFinal(framed bool, lane, ref string) *ecrproto.Message {
	e.t.Helper()
	c, _ := e.dial(framed)
	defer c.Close()
	deadline := time.Now().Add(testBound)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), testBound)
		res, err := c.Status(ctx, lane, ref)
		cancel()
		if err != nil {
			e.t.Fatal(err)
		}
		if res.Status != ecrproto.StatusPending {
			return res
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("STATUS %s/%s still PENDING", lane, ref)
	return nil
}

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

// op reads the journal's operation of a sale.
func (e *env) op(lane, ref string) queue.Operation {
	e.t.Helper()
	op, err := e.d.Engine().GetByRef(context.Background(), lane, queue.KindSale, ref)
	if err != nil {
		e.t.Fatal(err)
	}
	return op
}

// opUntilFinal waits (up to testBound) for the journal to finish the sale:
// a cancel the daemon took on is then done, or the sale is MANUAL.
func (e *env) opUntilFinal(lane, ref string) queue.Operation {
	e.t.Helper()
	deadline := time.Now().Add(testBound)
	for {
		op := e.op(lane, ref)
		if op.Final() || op.State == queue.StateManual {
			return op
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("sale %s/%s still %s in the journal", lane, ref, op.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkLedgerAgrees checks that the gateway's ledger matches what the ECR
// heard for the sale: APPROVED is a paid trade with the same Alipay id;
// DECLINED/CANCELLED is no trade, or a closed one.
func checkLedgerAgrees(t testing.TB, trades map[string]sandbox.Trade, ptid string, res *ecrproto.Message) {
	t.Helper()
	tr, found := trades[ptid]
	switch res.Status {
	case ecrproto.StatusApproved:
		if !found || tr.Status != "TRADE_SUCCESS" || tr.AlipayTransID != res.AlipayTransID || res.AlipayTransID == "" {
			t.Fatalf("ECR heard APPROVED %q; ledger has %+v (found %v)", res.AlipayTransID, tr, found)
		}
	case ecrproto.StatusDeclined, ecrproto.StatusCancelled:
		if found && tr.Status != "TRADE_CLOSED" {
			t.Fatalf("ECR heard %s; ledger trade is %s", res.Status, tr.Status)
		}
	default:
		t.Fatalf("not a final sale answer: %s", res.Status)
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
