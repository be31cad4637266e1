package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/safesocket"
)

// bound bounds every wait of these tests; none asserts on a duration.
const bound = 30 * time.Second

// fakeBackend is a control.Backend without a daemon: fixed answers, a
// real journal (SQLite in a temp dir, its scheduler never started), and
// what the server passed it.
type fakeBackend struct {
	mu         sync.Mutex
	snap       control.StatusSnapshot
	journal    control.Journal
	journalErr error
	// err, when set, is what every device, test, check and receipt call
	// returns.
	err     error
	check   control.GatewayCheckResult
	support control.SupportInfo
	// lane and timeout are the last test call's arguments.
	lane    string
	timeout time.Duration
}

var _ control.Backend = (*fakeBackend)(nil)

func (f *fakeBackend) Snapshot(context.Context) (control.StatusSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap, nil
}

func (f *fakeBackend) Journal() (control.Journal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.journalErr != nil {
		return nil, f.journalErr
	}
	return f.journal, nil
}

func (f *fakeBackend) Devices(context.Context) (control.DevicesReport, error) {
	return control.DevicesReport{FromDaemon: true, Lanes: []control.LaneDevices{{Lane: "1"}}}, f.failure()
}

func (f *fakeBackend) PrintTest(_ context.Context, lane string) (control.PrintTestResult, error) {
	f.record(lane, 0)
	return control.PrintTestResult{Lane: lane, Printer: "p1", Printed: true}, f.failure()
}

func (f *fakeBackend) ScanTest(_ context.Context, lane string, timeout time.Duration) (control.ScanTestResult, error) {
	f.record(lane, timeout)
	return control.ScanTestResult{Lane: lane, Scanner: "s1", Verdict: "nothing was scanned"}, f.failure()
}

func (f *fakeBackend) GatewayCheck(context.Context) (control.GatewayCheckResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.check, f.err
}

func (f *fakeBackend) SaleReceipt(_ context.Context, lane, ref string) (control.SaleReceipt, error) {
	f.record(lane, 0)
	return control.SaleReceipt{Lane: lane, Ref: ref, OpID: "op-1", State: "paid"}, f.failure()
}

func (f *fakeBackend) Support() control.SupportInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.support
}

func (f *fakeBackend) record(lane string, timeout time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lane, f.timeout = lane, timeout
}

func (f *fakeBackend) failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeBackend) set(fn func(*fakeBackend)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// noGateway is the journal's gateway; the scheduler never runs, so it is
// never called.
type noGateway struct{}

var errNoGateway = errors.New("no gateway in control tests")

func (noGateway) Pay(context.Context, queue.PayRequest) (queue.PayResult, error) {
	return queue.PayResult{}, errNoGateway
}

func (noGateway) Query(context.Context, string) (queue.QueryResult, error) {
	return queue.QueryResult{}, errNoGateway
}

func (noGateway) Cancel(context.Context, string) (queue.CancelResult, error) {
	return queue.CancelResult{}, errNoGateway
}

func (noGateway) Refund(context.Context, queue.RefundRequest) (queue.RefundResult, error) {
	return queue.RefundResult{}, errNoGateway
}

// env is a control server on a real unix socket over a fakeBackend.
type env struct {
	t   *testing.T
	b   *fakeBackend
	eng *queue.Engine
	cl  *control.Client
	raw *http.Client
}

// startEnv opens a journal in a temp dir and serves the control API on a
// socket there until the test ends.
func startEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	eng, err := queue.Open(t.Context(), filepath.Join(dir, "journal.db"), noGateway{}, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	b := &fakeBackend{journal: eng, snap: control.StatusSnapshot{Version: "v-test", State: control.DaemonReady,
		Lanes: []control.LaneStatus{}, Gateway: control.GatewayHealth{URL: "https://gw.example/gateway.do"}}}
	addr := testAddr(t, dir)
	ln, err := control.Listen(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- control.Serve(ctx, ln, b, control.Options{}) }()
	e := &env{t: t, b: b, eng: eng, cl: control.NewClient(addr), raw: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			if runtime.GOOS == "windows" {
				return safesocket.Dial(ctx, safesocket.PipePath(addr))
			}
			return safesocket.Dial(ctx, addr)
		}}}}
	t.Cleanup(func() {
		cancel()
		e.cl.Close()
		e.raw.CloseIdleConnections()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(bound):
			t.Error("Serve did not return")
		}
	})
	return e
}

// testAddr is a control address of its own for one test: a socket in dir,
// or on Windows a pipe named after the folder.
func testAddr(t *testing.T, dir string) string {
	if runtime.GOOS == "windows" {
		return "tillbridge-test-" + filepath.Base(filepath.Dir(dir)) + filepath.Base(dir)
	}
	return filepath.Join(dir, control.SocketName)
}

// ctx is a bounded context for one call.
func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	e.t.Cleanup(cancel)
	return ctx
}

// answer is one raw HTTP answer.
type answer struct {
	status int
	ctype  string
	body   []byte
}

// do sends one raw request.
func (e *env) do(method, path, body string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequestWithContext(e.ctx(), method, "http://control"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.raw.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: data}
}

// object decodes a JSON object answer.
func (a answer) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, a.body)
	}
	return m
}

// sale records a sale waiting for its code in the journal.
func (e *env) sale(ref string) queue.Operation {
	e.t.Helper()
	op, err := e.eng.SubmitSale(e.ctx(), queue.Sale{Lane: "1", Ref: ref, Amount: 1250, Currency: "HKD",
		Subject: "Tickets", Terminal: "T-01"})
	if err != nil {
		e.t.Fatal(err)
	}
	return op.Op
}

// ctlCode returns err's control error code ("" when it is none).
func ctlCode(err error) string {
	var ce *control.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}
