package control_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/queue"
)

// endpointCase is one request and what the answer must be: the HTTP
// status, the error code (for an error) and the keys of the JSON object
// (for an object answer).
type endpointCase struct {
	name         string
	method, path string
	body         string
	setup        func(*fakeBackend)
	status       int
	code         string
	keys         []string
}

func TestEndpoints(t *testing.T) {
	errInternal := errors.New("disk on fire at /secret/path")
	cases := []endpointCase{
		{name: "status", method: "GET", path: "/v1/status", status: 200,
			keys: []string{"version", "os", "state", "uptime_s", "data_dir", "ecr_listeners", "control", "lanes",
				"gateway", "queue", "healthy", "problems", "warnings"}},
		{name: "devices", method: "GET", path: "/v1/devices", status: 200, keys: []string{"from_daemon", "lanes", "discovery"}},
		{name: "print test", method: "POST", path: "/v1/print-test?lane=1", status: 200,
			keys: []string{"lane", "printer", "before", "printed"}},
		{name: "scan test", method: "POST", path: "/v1/scan-test?lane=1&timeout=2s", status: 200,
			keys: []string{"lane", "scanner", "scanned", "looks_alipay", "verdict"}},
		{name: "gateway check", method: "POST", path: "/v1/gateway-check", status: 200,
			keys: []string{"url", "partner", "sign_type", "partner_trans_id", "at", "latency_ms", "answered", "verified",
				"clock_skew_ms", "clock_known", "ok", "verdict", "advice"}},
		{name: "receipt", method: "GET", path: "/v1/receipt?lane=1&ref=R1", status: 200,
			keys: []string{"lane", "ref", "op_id", "state", "profile", "receipt"}},
		{name: "unknown path", method: "GET", path: "/v1/nothing", status: 404, code: control.CodeNotFound},
		{name: "wrong method", method: "POST", path: "/v1/status", status: 404, code: control.CodeNotFound},
		{name: "scan test bad timeout", method: "POST", path: "/v1/scan-test?timeout=soon", status: 400, code: control.CodeInvalid},
		{name: "scan test timeout too long", method: "POST", path: "/v1/scan-test?timeout=6m", status: 400, code: control.CodeInvalid},
		{name: "scan test zero timeout", method: "POST", path: "/v1/scan-test?timeout=0s", status: 400, code: control.CodeInvalid},
		{name: "starting", method: "POST", path: "/v1/print-test", status: 503, code: control.CodeStarting,
			setup: func(b *fakeBackend) { b.err = control.ErrStarting }},
		{name: "busy lane", method: "POST", path: "/v1/scan-test?lane=1", status: 409, code: control.CodeBusy,
			setup: func(b *fakeBackend) { b.err = control.Errorf(control.CodeBusy, "lane 1: a sale is running") }},
		{name: "no scanner", method: "POST", path: "/v1/scan-test?lane=1", status: 501, code: control.CodeUnsupported,
			setup: func(b *fakeBackend) { b.err = control.Errorf(control.CodeUnsupported, "no scanner") }},
		{name: "device unavailable", method: "GET", path: "/v1/devices", status: 503, code: control.CodeUnavailable,
			setup: func(b *fakeBackend) { b.err = control.Errorf(control.CodeUnavailable, "gone") }},
		{name: "timed out", method: "POST", path: "/v1/gateway-check", status: 504, code: control.CodeTimeout,
			setup: func(b *fakeBackend) { b.err = context.DeadlineExceeded }},
		{name: "internal", method: "GET", path: "/v1/receipt?ref=R1", status: 500, code: control.CodeInternal,
			setup: func(b *fakeBackend) { b.err = errInternal }},
		{name: "queue while starting", method: "GET", path: "/v1/queue", status: 503, code: control.CodeStarting,
			setup: func(b *fakeBackend) { b.journalErr = control.ErrStarting }},
		{name: "queue bad state", method: "GET", path: "/v1/queue?state=lost", status: 400, code: control.CodeInvalid},
		{name: "queue bad kind", method: "GET", path: "/v1/queue?kind=payout", status: 400, code: control.CodeInvalid},
		{name: "queue bad since", method: "GET", path: "/v1/queue?since=yesterday", status: 400, code: control.CodeInvalid},
		{name: "queue bad limit", method: "GET", path: "/v1/queue?limit=-1", status: 400, code: control.CodeInvalid},
		{name: "unknown operation", method: "GET", path: "/v1/queue/nope", status: 404, code: control.CodeNotFound},
		{name: "retry unknown", method: "POST", path: "/v1/queue/nope/retry", status: 404, code: control.CodeNotFound},
		{name: "resolve bad body", method: "POST", path: "/v1/queue/nope/resolve", body: "{", status: 400, code: control.CodeInvalid},
		{name: "resolve unknown field", method: "POST", path: "/v1/queue/nope/resolve", body: `{"state":"paid","why":"x"}`,
			status: 400, code: control.CodeInvalid},
		{name: "export without from", method: "GET", path: "/v1/journal/export", status: 400, code: control.CodeInvalid},
		{name: "export bad format", method: "GET", path: "/v1/journal/export?from=2026-01-01T00:00:00Z&format=xml",
			status: 400, code: control.CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := startEnv(t)
			if tc.setup != nil {
				e.b.set(tc.setup)
			}
			a := e.do(tc.method, tc.path, tc.body)
			if a.status != tc.status || a.ctype != "application/json" {
				t.Fatalf("HTTP %d %s, want %d application/json: %s", a.status, a.ctype, tc.status, a.body)
			}
			m := a.object(t)
			if tc.code != "" {
				if m["code"] != tc.code || m["error"] == "" || len(m) != 2 {
					t.Fatalf("error body %v, want code %q and a message only", m, tc.code)
				}
				if strings.Contains(string(a.body), "secret") {
					t.Fatalf("an internal error's detail reached the client: %s", a.body)
				}
			}
			for _, k := range tc.keys {
				if _, ok := m[k]; !ok {
					t.Errorf("answer has no %q: %s", k, a.body)
				}
			}
		})
	}
}

func TestScanTestPassesLaneAndTimeout(t *testing.T) {
	e := startEnv(t)
	if _, err := e.cl.ScanTest(e.ctx(), "2", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if e.b.lane != "2" || e.b.timeout != 3*time.Second {
		t.Fatalf("backend got lane %q timeout %s", e.b.lane, e.b.timeout)
	}
	if _, err := e.cl.ScanTest(e.ctx(), "1", 0); ctlCode(err) != control.CodeInvalid {
		t.Fatalf("zero timeout: %v", err)
	}
	a := e.do("POST", "/v1/scan-test", "")
	if a.status != 200 || e.b.timeout != control.DefaultScanTestTimeout {
		t.Fatalf("no timeout: HTTP %d, backend timeout %s", a.status, e.b.timeout)
	}
}

func TestStatusVerdict(t *testing.T) {
	e := startEnv(t)
	s, err := e.cl.Status(e.ctx())
	if err != nil || !s.Healthy || s.Gateway.Reachable != control.ReachableUnknown || len(s.Warnings) != 1 {
		t.Fatalf("fresh: %v %+v", err, s)
	}
	e.b.set(func(b *fakeBackend) {
		b.snap.State = control.DaemonStarting
		b.snap.Queue = control.QueueCounts{Manual: 2}
		b.snap.Lanes = []control.LaneStatus{{ID: "1", Printer: &control.PrinterHealth{Name: "p1", State: "paper_end"}}}
	})
	s, err = e.cl.Status(e.ctx())
	if err != nil || s.Healthy || len(s.Problems) != 3 {
		t.Fatalf("starting, 2 manual, printer out of paper: %v %q", err, s.Problems)
	}
	for i, want := range []string{"starting", "2 operation(s) in MANUAL", "lane 1: printer p1 is not ready: paper_end"} {
		if !strings.Contains(s.Problems[i], want) {
			t.Errorf("problem %d: %q, want %q", i, s.Problems[i], want)
		}
	}
}

func TestGatewayCheckFeedsStatus(t *testing.T) {
	e := startEnv(t)
	at := time.Now()
	e.b.set(func(b *fakeBackend) {
		b.check = control.GatewayCheckResult{At: at, Verdict: control.VerdictPartner, Code: "ILLEGAL_PARTNER", Advice: "check gateway.partner"}
	})
	if _, err := e.cl.GatewayCheck(e.ctx()); err != nil {
		t.Fatal(err)
	}
	s, err := e.cl.Status(e.ctx())
	if err != nil || s.Gateway.Reachable != control.ReachableNo || s.Gateway.LastCode != "ILLEGAL_PARTNER" || s.Healthy {
		t.Fatalf("after a failed check: %v %+v", err, s.Gateway)
	}
	e.b.set(func(b *fakeBackend) {
		b.check = control.GatewayCheckResult{At: at.Add(time.Second), Verdict: control.VerdictOK}
	})
	if _, err := e.cl.GatewayCheck(e.ctx()); err != nil {
		t.Fatal(err)
	}
	s, err = e.cl.Status(e.ctx())
	if err != nil || s.Gateway.Reachable != control.ReachableYes || s.Gateway.LastOKCall != "gateway-check" || !s.Healthy {
		t.Fatalf("after a good check: %v %+v", err, s.Gateway)
	}
}

func TestQueueEndpointsOnARealJournal(t *testing.T) {
	e := startEnv(t)
	if ops, err := e.cl.Queue(e.ctx(), control.QueueQuery{}); err != nil || ops == nil || len(ops) != 0 {
		t.Fatalf("empty journal: %v %#v", err, ops)
	}
	if a := e.do("GET", "/v1/queue", ""); strings.TrimSpace(string(a.body)) != "[]" {
		t.Fatalf("empty list is not []: %s", a.body)
	}
	op := e.sale("R1")
	ops, err := e.cl.Queue(e.ctx(), control.QueueQuery{States: []string{control.StateOpen}, Lane: "1", Kind: queue.KindSale})
	if err != nil || len(ops) != 1 || ops[0].ID != op.ID || ops[0].Ref != "R1" || ops[0].Amount != 1250 {
		t.Fatalf("open sales: %v %+v", err, ops)
	}
	if ops, err := e.cl.Queue(e.ctx(), control.QueueQuery{States: []string{"paid"}}); err != nil || len(ops) != 0 {
		t.Fatalf("paid: %v %+v", err, ops)
	}
	if _, err := e.cl.Retry(e.ctx(), op.ID); ctlCode(err) != control.CodeState {
		t.Fatalf("retry a sale waiting for its code: %v", err)
	}
	for _, r := range []control.ResolveRequest{
		{State: "declined", Operator: "tech"},                // no reason
		{State: "refunded", Reason: "x", Operator: "tech"},   // not a sale's state
		{State: "whatever", Reason: "x", Operator: "tech"},   // no state at all
		{State: "declined", Reason: "x", Operator: "  \t  "}, // blank operator
	} {
		if _, err := e.cl.Resolve(e.ctx(), op.ID, r); ctlCode(err) != control.CodeInvalid {
			t.Errorf("resolve %+v: %v, want invalid", r, err)
		}
	}
	got, err := e.cl.Resolve(e.ctx(), op.ID, control.ResolveRequest{State: "Declined", Reason: "no such trade", Operator: "tech-anna"})
	if err != nil || got.State != string(queue.StateDeclined) || !strings.Contains(got.Reason, "tech-anna") {
		t.Fatalf("resolve: %v %+v", err, got)
	}
	d, err := e.cl.Operation(e.ctx(), op.ID)
	if err != nil || d.Op.State != string(queue.StateDeclined) || len(d.Events) < 2 {
		t.Fatalf("show: %v %+v", err, d)
	}
	if last := d.Events[len(d.Events)-1]; last.Name != string(queue.EventResolved) || !strings.Contains(last.Detail, "no such trade") {
		t.Fatalf("last event: %+v", last)
	}
	if _, err := e.cl.Retry(e.ctx(), op.ID); ctlCode(err) != control.CodeState {
		t.Fatalf("retry a final sale: %v", err)
	}
}

func TestJournalExportStreams(t *testing.T) {
	e := startEnv(t)
	e.sale("X1")
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	var out bytes.Buffer
	if err := e.cl.ExportJournal(e.ctx(), &out, from, to, queue.ExportCSV); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "id,") ||
		!strings.Contains(lines[1], "X1") {
		t.Fatalf("csv: %q", out.String())
	}
	a := e.do("GET", "/v1/journal/export?format=json&from="+from.UTC().Format(time.RFC3339), "")
	if a.status != 200 || a.ctype != "application/json" || !strings.Contains(string(a.body), `"X1"`) {
		t.Fatalf("json: HTTP %d %s %s", a.status, a.ctype, a.body)
	}
}

func TestSupportBundleIsRedacted(t *testing.T) {
	e := startEnv(t)
	secret := "s3cr3t-md5-key-0001"
	logFile := filepath.Join(t.TempDir(), "tillbridge.log")
	if err := os.WriteFile(logFile, []byte("key="+secret+" code 281234567890123400\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.b.set(func(b *fakeBackend) {
		b.support = control.SupportInfo{Config: []byte("md5_key = \"" + secret + "\"\n"), Secrets: []string{secret},
			LogFile: logFile, JournalFile: filepath.Join(t.TempDir(), "journal.db")}
		b.check = control.GatewayCheckResult{Verdict: control.VerdictOK, OK: true}
	})
	e.sale("B1")
	var zipped bytes.Buffer
	if err := e.cl.SupportBundle(e.ctx(), &zipped); err != nil {
		t.Fatal(err)
	}
	files := testenv.Unzip(t, zipped.Bytes())
	for _, name := range []string{"README.txt", "version.json", "status.json", "config.redacted.toml", "devices.json",
		"gateway-check.json", "journal.json", "manual-operations.json", "logs/tillbridge.log"} {
		if _, ok := files[name]; !ok {
			t.Errorf("bundle has no %s (has %v)", name, keys(files))
		}
	}
	if _, ok := files["errors.txt"]; ok {
		t.Errorf("errors.txt: %s", files["errors.txt"])
	}
	for name, data := range files {
		if strings.Contains(data, secret) || strings.Contains(data, "281234567890123400") {
			t.Errorf("%s holds a secret or a customer code: %s", name, data)
		}
	}
	if !strings.Contains(files["journal.json"], `"B1"`) {
		t.Errorf("journal.json lacks the open sale: %s", files["journal.json"])
	}
}

func TestWriteSupportBundleNotesWhatIsMissing(t *testing.T) {
	b := &fakeBackend{journalErr: control.Errorf(control.CodeUnavailable, "the daemon is not running"),
		err:  control.Errorf(control.CodeUnavailable, "the daemon is not running"),
		snap: control.StatusSnapshot{State: control.DaemonNotRunning}}
	var zipped bytes.Buffer
	if err := control.WriteSupportBundle(t.Context(), &zipped, b); err != nil {
		t.Fatal(err)
	}
	errs := testenv.Unzip(t, zipped.Bytes())["errors.txt"]
	for _, want := range []string{"config.redacted.toml: the configuration could not be read", "devices.json:",
		"gateway-check.json:", "journal.json:", "logs: the daemon writes no log file"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors.txt lacks %q:\n%s", want, errs)
		}
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A non-JSON error page (another program on the socket) is a bad_response
// with the HTTP status, never a crash or a silent success.
func TestClientReadsForeignErrorPages(t *testing.T) {
	path := testAddr(t, t.TempDir())
	ln, err := control.Listen(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	})}
	go hs.Serve(ln)
	defer hs.Close()
	cl := control.NewClient(path)
	defer cl.Close()
	_, err = cl.Status(t.Context())
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Code != control.CodeBadAnswer || ce.Status != http.StatusBadGateway ||
		!strings.Contains(ce.Message, "bad gateway") {
		t.Fatalf("foreign error page: %v", err)
	}
}
