package daemon_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
	"github.com/tillbridge/tillbridge/queue"
)

func TestControlStatusBeforeAndAfterASale(t *testing.T) {
	e := startCtlEnv(t)
	s, err := e.Control.Status(e.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	if s.State != control.DaemonReady || s.Version != "test-1.0" || len(s.Lanes) != 2 || s.Control != daemon.ControlAddress(e.Config) {
		t.Fatalf("snapshot: %+v", s)
	}
	if p := s.Lanes[0].Printer; p == nil || !p.OneWay || s.Lanes[0].Scanner == nil {
		t.Fatalf("lane 1 devices: %+v", s.Lanes[0])
	}
	if !s.Healthy || s.Gateway.Reachable != control.ReachableUnknown || !containsText(s.Warnings, "gateway-check") {
		t.Fatalf("fresh daemon: healthy=%v gateway=%+v warnings=%v problems=%v", s.Healthy, s.Gateway, s.Warnings, s.Problems)
	}
	if res := e.Sale("1", "R1", sandboxCode(0, 1), nil); res.Status != ecrproto.StatusApproved {
		t.Fatalf("sale: %+v", res)
	}
	s = e.StatusUntil("the gateway reachable", func(s control.StatusSnapshot) bool {
		return s.Gateway.Reachable == control.ReachableYes
	})
	if s.Queue.ByState["paid"] != 1 || s.Queue.Total != 1 || s.Queue.Open != 0 || s.Gateway.LastOKCall != "pay" {
		t.Fatalf("after the sale: queue %+v gateway %+v", s.Queue, s.Gateway)
	}
}

func TestControlManualOperationResolvedByHand(t *testing.T) {
	e := startCtlEnv(t, daemonenv.WithConfig(func(c *daemon.Config) { c.Payment.PendingExpiry = 700 * time.Millisecond }))
	if err := e.Sandbox.Server().SetFault(sandbox.Fault{Kind: sandbox.FaultDown}); err != nil {
		t.Fatal(err)
	}
	code := sandboxCode(0, 7)
	e.Sale("1", "M1", code, nil)
	s := e.StatusUntil("MANUAL and the gateway down", func(s control.StatusSnapshot) bool {
		return s.Queue.Manual == 1 && s.Gateway.Reachable == control.ReachableNo
	})
	if s.Healthy || !containsText(s.Problems, "MANUAL") || !containsText(s.Problems, "gateway unreachable") {
		t.Fatalf("unhealthy expected: %v", s.Problems)
	}
	ops, err := e.Control.Queue(e.Ctx(), control.QueueQuery{States: []string{"manual"}})
	if err != nil || len(ops) != 1 || ops[0].Ref != "M1" {
		t.Fatalf("queue list manual: %v %+v", err, ops)
	}
	id := ops[0].ID
	if b := ops[0].Buyer; strings.Contains(b, code) || !strings.HasSuffix(b, code[len(code)-4:]) {
		t.Fatalf("buyer %q: want masked, last 4 kept", b)
	}
	checkQueueRefusals(t, e, id)
	e.Sandbox.Server().ClearFaults()
	op, err := e.Control.Resolve(e.Ctx(), id, control.ResolveRequest{State: "declined",
		Reason: "TRADE_NOT_EXIST in the sandbox ledger", Operator: "tech-anna"})
	if err != nil || op.State != string(queue.StateDeclined) || !strings.Contains(op.Reason, "tech-anna") {
		t.Fatalf("resolve: %v %+v", err, op)
	}
	d, err := e.Control.Operation(e.Ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := d.Events[len(d.Events)-1]
	if last.Name != string(queue.EventResolved) || !strings.Contains(last.Detail, "tech-anna") ||
		!strings.Contains(last.Detail, "sandbox ledger") {
		t.Fatalf("last event: %+v", last)
	}
	if gc, err := e.Control.GatewayCheck(e.Ctx()); err != nil || !gc.OK {
		t.Fatalf("gateway check after the fault: %v %+v", err, gc)
	}
	e.StatusUntil("healthy again", func(s control.StatusSnapshot) bool { return s.Healthy && s.Queue.Manual == 0 })
}

// checkQueueRefusals checks what the queue endpoints refuse, and why.
func checkQueueRefusals(t *testing.T, e *env, id string) {
	t.Helper()
	cases := []struct {
		name, want string
		call       func() error
	}{
		{"retry a manual op", control.CodeState, func() error { _, err := e.Control.Retry(e.Ctx(), id); return err }},
		{"resolve without reason", control.CodeInvalid, func() error {
			_, err := e.Control.Resolve(e.Ctx(), id, control.ResolveRequest{State: "declined", Operator: "tech"})
			return err
		}},
		{"resolve a sale to refunded", control.CodeInvalid, func() error {
			_, err := e.Control.Resolve(e.Ctx(), id, control.ResolveRequest{State: "refunded", Reason: "x", Operator: "tech"})
			return err
		}},
		{"show unknown id", control.CodeNotFound, func() error { _, err := e.Control.Operation(e.Ctx(), "nope"); return err }},
		{"list bad state", control.CodeInvalid, func() error {
			_, err := e.Control.Queue(e.Ctx(), control.QueueQuery{States: []string{"lost"}})
			return err
		}},
	}
	for _, c := range cases {
		if got := ctlCode(c.call()); got != c.want {
			t.Errorf("%s: code %q, want %q", c.name, got, c.want)
		}
	}
	if ops, err := e.Control.Queue(e.Ctx(), control.QueueQuery{States: []string{control.StateOpen}}); err != nil || len(ops) != 0 {
		t.Errorf("open ops: %v %+v", err, ops)
	}
}

func TestControlPrintTest(t *testing.T) {
	sim := devices.NewSimPrinter("lane-2")
	sim.SetStatus(devices.PrinterStatus{Known: true, Online: true, PaperEnd: true})
	e := startCtlEnv(t, daemonenv.WithDaemon(func(o *daemon.Options) {
		p, err := escpos.NewPrinter(escpos.PrinterConfig{Name: "lane-2", Profile: mustProfile(t), Open: sim.Opener()})
		if err != nil {
			t.Fatal(err)
		}
		o.Printers = map[string]devices.Printer{"lane-2": p}
	}))
	res, err := e.Control.PrintTest(e.Ctx(), "1")
	if err != nil || !res.Printed {
		t.Fatalf("lane 1: %v %+v", err, res)
	}
	job, err := os.ReadFile(filepath.Join(e.Dir, "receipts", "lane-1.escpos"))
	if err != nil || !bytes.Contains(job, []byte("tillbridge test print")) || !bytes.Contains(job, []byte("NOT A RECEIPT")) {
		t.Fatalf("test page not in the receipt file: %v %q", err, job)
	}
	res, err = e.Control.PrintTest(e.Ctx(), "2")
	if err != nil || res.Printed || res.Problem != devices.StatusPaperEnd || res.Before.State != devices.StatusPaperEnd {
		t.Fatalf("lane 2 (paper end): %v %+v", err, res)
	}
	if len(sim.Printed()) != 0 {
		t.Fatal("a printer without paper was sent the job")
	}
	if _, err := e.Control.PrintTest(e.Ctx(), ""); ctlCode(err) != control.CodeInvalid {
		t.Fatalf("no lane with two lanes: %v", err)
	}
	if _, err := e.Control.PrintTest(e.Ctx(), "9"); ctlCode(err) != control.CodeNotFound {
		t.Fatalf("unknown lane: %v", err)
	}
	s, err := e.Control.Status(e.Ctx())
	if err != nil || s.Healthy || !containsText(s.Problems, "lane 2: printer lane-2 is not ready: paper_end") {
		t.Fatalf("status with a printer out of paper: %v %v", err, s.Problems)
	}
}

func mustProfile(t *testing.T) escpos.Profile {
	t.Helper()
	p, err := escpos.LookupProfile("generic-80")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestControlScanTest(t *testing.T) {
	scanner := devices.NewSimScanner("lane-1", nil)
	e := startCtlEnv(t, daemonenv.WithDaemon(func(o *daemon.Options) {
		o.Scanners = map[string]devices.Scanner{"lane-1": scanner}
	}))
	code := sandboxCode(0, 42)
	got := make(chan control.ScanTestResult, 1)
	go func() {
		res, err := e.Control.ScanTest(e.Ctx(), "1", testBound)
		if err != nil {
			t.Error(err)
		}
		got <- res
	}()
	res := feedUntil(t, scanner, code, got)
	if !res.Scanned || !res.LooksAlipay || res.Masked != devices.MaskCode(code) || strings.Contains(res.Masked, code[:12]) {
		t.Fatalf("scan test: %+v", res)
	}
	if ops, err := e.Control.Queue(e.Ctx(), control.QueueQuery{}); err != nil || len(ops) != 0 {
		t.Fatalf("a scan test made operations: %v %+v", err, ops)
	}
}

// feedUntil feeds code until the scan test reports (scans fed before the
// test taps the lane are dropped by the idle lane).
func feedUntil(t *testing.T, s *devices.SimScanner, code string, got <-chan control.ScanTestResult) control.ScanTestResult {
	t.Helper()
	deadline := time.After(testBound)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case res := <-got:
			return res
		case <-tick.C:
			_ = s.Feed(t.Context(), code)
		case <-deadline:
			t.Fatal("scan test never reported")
		}
	}
}

func TestControlScanTestRefusals(t *testing.T) {
	e := startCtlEnv(t, daemonenv.WithConfig(func(c *daemon.Config) { c.Lanes[1].Scanner = "" }))
	if _, err := e.Control.ScanTest(e.Ctx(), "2", time.Second); ctlCode(err) != control.CodeUnsupported {
		t.Fatalf("lane without scanner: %v", err)
	}
	if _, err := e.Control.ScanTest(e.Ctx(), "7", time.Second); ctlCode(err) != control.CodeNotFound {
		t.Fatalf("unknown lane: %v", err)
	}
}

func TestControlJournalExport(t *testing.T) {
	e := startCtlEnv(t)
	code := sandboxCode(3, 9)
	e.Sale("2", "X1", code, nil)
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	var out bytes.Buffer
	if err := e.Control.ExportJournal(e.Ctx(), &out, from, to, queue.ExportCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 2 || rows[0][0] != "id" || rows[1][3] != "X1" || rows[1][5] != "paid" {
		t.Fatalf("csv: %v %q", err, rows)
	}
	out.Reset()
	if err := e.Control.ExportJournal(e.Ctx(), &out, from, to, queue.ExportJSON); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(out.Bytes(), &recs); err != nil || len(recs) != 1 || strings.Contains(out.String(), code) {
		t.Fatalf("json: %v %s", err, out.String())
	}
	out.Reset()
	if err := e.Control.ExportJournal(e.Ctx(), &out, to, to.Add(time.Hour), queue.ExportCSV); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("empty range: %v %q", err, out.String())
	}
}

func containsText(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
