package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/queue/alipaygw"
	"github.com/tillbridge/tillbridge/recon"
)

// reconDay makes one paid sale through the sandbox into a journal in dir
// and writes the sandbox's files of the day; it returns the sandbox, the
// transaction and settlement files and the day.
func reconDay(t *testing.T, dir string) (*sandbox.Server, string, string, string) {
	t.Helper()
	const partner, key = "2088101122136241", "10000000000000000000000000000000"
	base := time.Date(2026, 3, 4, 11, 0, 0, 0, time.FixedZone("GMT+8", 8*3600))
	start := time.Now()
	clock := func() time.Time { return base.Add(time.Since(start)) }
	sb, err := sandbox.New(sandbox.Config{Partner: partner, MD5Key: key, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	cl, err := alipay.NewClient(alipay.Config{GatewayURL: srv.URL + "/gateway.do", Partner: partner,
		SignType: alipay.SignMD5, MD5Key: key, Timeout: 5 * time.Second,
		Extend: alipay.ExtendInfo{SecondaryMerchantID: "S1", StoreID: "ST1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := queue.Open(ctx, filepath.Join(dir, "journal.db"), alipaygw.New(cl), queue.Config{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	sub, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: "A-1", Amount: 1250, Currency: "HKD", Terminal: "T01",
		BuyerCode: "281234567890123400"})
	if err != nil {
		t.Fatal(err)
	}
	op := sub.Op
	testenv.WaitFor(t, testenv.Bound, func() bool {
		op, _ = e.Get(ctx, op.ID)
		return op.Final()
	}, "the sale final")
	cancel()
	<-done
	e.Close(context.Background())
	paths, err := sb.WriteFiles(filepath.Join(dir, "alipay"), clock())
	if err != nil {
		t.Fatal(err)
	}
	return sb, paths[0], paths[1], "2026-03-04"
}

func TestReconcileCommand(t *testing.T) {
	dir := t.TempDir()
	sb, txn, settle, day := reconDay(t, dir)
	code, out, errOut := run(t, "reconcile", "--data", dir, "--config", filepath.Join(dir, "none.toml"),
		"--date", day, "--file", txn, "--settlement", settle, "--html", filepath.Join(dir, "r.html"))
	if code != exitOK || !strings.Contains(out, "): OK") || !strings.Contains(out, "1 = 12.50") {
		t.Fatalf("clean day: %d\n%s\n%s", code, out, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "r.html")); err != nil || !strings.Contains(string(b), "<h1>Reconciliation of 2026-03-04") {
		t.Fatalf("html: %v", err)
	}

	// A planted payment the till never heard of: exit 4, listed, resolved.
	if err := sb.SetFileFault(sandbox.FileFault{Kind: sandbox.FileFaultUnknownPaid, Amount: 500,
		At: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.WriteFiles(filepath.Dir(txn), time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "reconcile", "--data", dir, "--config", filepath.Join(dir, "none.toml"), "--date", day,
		"--file", txn, "--json")
	var rep recon.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if code != exitUnhealthy || rep.Counts[recon.ClassPaidNotApproved] != 1 {
		t.Fatalf("planted: %d %+v", code, rep.Counts)
	}
	code, out, _ = run(t, "reconcile", "exceptions", "--data", dir, "--config", filepath.Join(dir, "none.toml"), "--json")
	var exs []recon.Exception
	if err := json.Unmarshal([]byte(out), &exs); err != nil || code != exitOK || len(exs) != 1 {
		t.Fatalf("exceptions: %d %v\n%s", code, err, out)
	}
	code, _, errOut = run(t, "reconcile", "resolve", "1", "--data", dir, "--config", filepath.Join(dir, "none.toml"))
	if code != exitUsage || !strings.Contains(errOut, "--reason") {
		t.Fatalf("resolve without reason: %d %s", code, errOut)
	}
	code, out, errOut = run(t, "reconcile", "resolve", "1", "--reason", "refunded in the portal", "--operator", "anna",
		"--data", dir, "--config", filepath.Join(dir, "none.toml"))
	if code != exitOK {
		t.Fatalf("resolve: %d %s %s", code, out, errOut)
	}
	code, out, _ = run(t, "reconcile", "exceptions", "--all", "--data", dir, "--config", filepath.Join(dir, "none.toml"))
	if code != exitOK || !strings.Contains(out, "resolved by anna: refunded in the portal") {
		t.Fatalf("exceptions --all: %s", out)
	}
	code, _, _ = run(t, "reconcile", "--date", "2026-3-4", "--file", txn, "--data", dir)
	if code != exitUsage {
		t.Fatalf("bad date: %d", code)
	}

	// Without --file: fetched from the source a sandbox run leaves in
	// DATA/sandbox-reconcile.json (here a folder), archived in DATA.
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	body, _ := os.ReadFile(txn)
	os.WriteFile(filepath.Join(src, daemon.SandboxPartner+"_transaction_20260304.txt"), body, 0o644)
	b, _ := json.Marshal(recon.Config{Source: "dir", Dir: src})
	os.WriteFile(filepath.Join(dir, daemon.SandboxReconcileFile), b, 0o600)
	code, out, errOut = run(t, "reconcile", "--data", dir, "--config", filepath.Join(dir, "none.toml"), "--date", day)
	if code != exitUnhealthy || !strings.Contains(out, "paid_not_approved") {
		t.Fatalf("fetched: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "recon", "files", daemon.SandboxPartner+"_transaction_20260304.txt")); err != nil {
		t.Fatalf("not archived: %v", err)
	}
	code, _, errOut = run(t, "reconcile", "--data", dir, "--config", filepath.Join(dir, "none.toml"), "--date", "2026-03-05")
	if code != exitFailure || !strings.Contains(errOut, "not there yet") {
		t.Fatalf("missing file: %d %s", code, errOut)
	}
}
