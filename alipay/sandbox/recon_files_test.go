package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

func TestFileFaults(t *testing.T) {
	e := filesDay(t)
	day := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	var fe *sandbox.FaultError
	for _, bad := range []sandbox.FileFault{{Kind: "nope"}, {Kind: sandbox.FileFaultMissing},
		{Kind: sandbox.FileFaultFee}, {Kind: sandbox.FileFaultWrongAmount, PartnerTransID: "FP-1"}} {
		if err := e.sb.SetFileFault(bad); !errors.As(err, &fe) {
			t.Errorf("%+v accepted: %v", bad, err)
		}
	}
	must := func(f sandbox.FileFault) {
		if err := e.sb.SetFileFault(f); err != nil {
			t.Fatal(err)
		}
	}
	must(sandbox.FileFault{Kind: sandbox.FileFaultMissing, PartnerTransID: "FP-1-r1"})
	must(sandbox.FileFault{Kind: sandbox.FileFaultWrongAmount, PartnerTransID: "FP-1", Amount: 1205})
	must(sandbox.FileFault{Kind: sandbox.FileFaultDuplicate, PartnerTransID: "FP-1"})
	must(sandbox.FileFault{Kind: sandbox.FileFaultFee, PartnerTransID: "FP-2", Fee: 7})
	must(sandbox.FileFault{Kind: sandbox.FileFaultUnknownPaid, PartnerTransID: "GHOST", Amount: 990,
		At: time.Date(2024, 1, 10, 6, 0, 0, 0, time.UTC)})
	var b strings.Builder
	if err := e.sb.WriteTransactionFile(&b, day); err != nil {
		t.Fatal(err)
	}
	txt := b.String()
	if strings.Contains(txt, "FP-1-r1") {
		t.Errorf("missing refund still listed:\n%s", txt)
	}
	if strings.Count(txt, "FP-1|") != 2 || !strings.Contains(txt, "FP-1|"+e.trade("FP-1").AlipayTransID+"|12.05|") {
		t.Errorf("wrong amount / duplicate of FP-1:\n%s", txt)
	}
	if !strings.Contains(txt, "|7.00|0.07|USD|") || !strings.Contains(txt, "GHOST|") || !strings.Contains(txt, "|9.90|") {
		t.Errorf("fee / planted payment:\n%s", txt)
	}
	if !strings.HasPrefix(txt, "Partner:2088101122136241|Payment_time: 2024-01-10|Total_count:5\n") {
		t.Errorf("Total_count must count the planted records:\n%s", txt)
	}
	b.Reset()
	if err := e.sb.WriteSettlementFile(&b, day.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	// FP-2 payment: Fee 0.07, Settlement 6.93.
	if !strings.Contains(b.String(), "FP-2|"+e.trade("FP-2").AlipayTransID+"|7.00|") || !strings.Contains(b.String(), "|0.07|6.93|") {
		t.Errorf("settlement fee:\n%s", b.String())
	}
	e.sb.ClearFileFaults()
	if len(e.sb.FileFaults()) != 0 {
		t.Fatal("faults not cleared")
	}
}

func TestFileFaultsHTTP(t *testing.T) {
	e := filesDay(t)
	resp, err := http.Post(e.srv.URL+"/sandbox/file-faults", "application/json",
		strings.NewReader(`{"kind":"fee","fee":25}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(e.sb.FileFaults()) != 1 {
		t.Fatalf("POST: %d %v", resp.StatusCode, e.sb.FileFaults())
	}
	resp, _ = http.Post(e.srv.URL+"/sandbox/file-faults", "application/json", strings.NewReader(`{"kind":"bogus"}`))
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad kind: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/sandbox/file-faults", nil)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if len(e.sb.FileFaults()) != 0 {
		t.Fatal("DELETE did not clear")
	}
}

func TestWriteFilesAndSchedule(t *testing.T) {
	e := filesDay(t)
	dir := t.TempDir()
	paths, err := e.sb.WriteFiles(dir, time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2088101122136241_transaction_20240110.txt", "2088101122136241_settlement_20240110.txt"}
	for i, p := range paths {
		if filepath.Base(p) != want[i] {
			t.Fatalf("paths %v", paths)
		}
		if b, err := os.ReadFile(p); err != nil || len(b) == 0 {
			t.Fatalf("%s: %v", p, err)
		}
	}
	// With Now, RunFileWriter writes the current day's files at once.
	dir2 := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	wrote := make(chan struct{}, 1)
	go func() {
		done <- e.sb.RunFileWriter(ctx, sandbox.FileSchedule{Dir: dir2, Now: true, Every: time.Hour,
			Logf: func(string, ...any) {
				select {
				case wrote <- struct{}{}:
				default:
				}
			}})
	}()
	<-wrote
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir2)
	if len(entries) != 4 { // yesterday's and today's
		t.Fatalf("files written at once: %v", entries)
	}
}
