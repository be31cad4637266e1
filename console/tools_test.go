package console_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/recon"
)

// TestConsoleBundleAndValidationReports: the support bundle downloads as
// the control API's redacted zip; validation reports are listed and sent
// as downloads, and nothing outside their folder is.
func TestConsoleBundleAndValidationReports(t *testing.T) {
	reports := t.TempDir()
	for name, body := range map[string]string{"validation.txt": "PASS 12/12\n", "validation.html": "<h1>report</h1>",
		"notes.md": "not a report"} {
		if err := os.WriteFile(filepath.Join(reports, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := startEnv(t, func(c *daemon.Config) { c.Console.ValidationDir = reports })
	code := sandboxCode(1, 5151)
	e.sale("1", "B-1", code)
	c := e.loggedIn()

	_, page := get(t, c, e.base+"/bundle")
	st, body := post(t, c, e.base+"/bundle", url.Values{"csrf": {csrf(t, page)}}, nil)
	if st != http.StatusOK {
		t.Fatalf("bundle: HTTP %d", st)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatalf("bundle is not a zip: %v", err)
	}
	key, err := os.ReadFile(filepath.Join(e.dir, daemon.SandboxKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) == 0 {
		t.Fatal("empty bundle")
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, bytes.TrimSpace(key)) || bytes.Contains(b, []byte(code)) {
			t.Errorf("bundle file %s holds the MD5 key or a full buyer code", f.Name)
		}
	}

	_, page = get(t, c, e.base+"/validation")
	for _, want := range []string{"/validation/validation.txt", "/validation/validation.html"} {
		if !strings.Contains(page, want) {
			t.Errorf("the validation page does not list %s", want)
		}
	}
	if strings.Contains(page, "notes.md") {
		t.Error("the validation page lists a file that is not a report")
	}
	resp, err := c.Get(e.base + "/validation/validation.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("an HTML report: HTTP %d, %q; want a download", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	for _, p := range []string{"/validation/notes.md", "/validation/..%2Fjournal.db", "/validation/%2E%2E%2F" + daemon.SandboxKeyFile + ".txt"} {
		if st, _ := get(t, c, e.base+p); st != http.StatusNotFound {
			t.Errorf("GET %s: HTTP %d, want 404", p, st)
		}
	}
}

// TestConsoleReconExceptionsReadOnly: the Recon page lists the recon
// database's open exceptions, read-only.
func TestConsoleReconExceptionsReadOnly(t *testing.T) {
	e := startEnv(t, nil)
	c := e.loggedIn()
	if _, page := get(t, c, e.base+"/reconcile"); !strings.Contains(page, "No reconciliation has been recorded yet") {
		t.Error("the Recon page without a recon database does not say so")
	}
	st, err := recon.OpenStore(e.ctx(), filepath.Join(e.dir, daemon.ReconFile))
	if err != nil {
		t.Fatal(err)
	}
	rep := &recon.Report{Day: "2026-01-10", Counts: map[recon.Class]int{recon.ClassMissingAtAlipay: 1}, Exceptions: 1,
		Items: []recon.Item{{Class: recon.ClassMissingAtAlipay, Key: "TBX-MISSING-1", Type: "PAYMENT", Amount: 990,
			Currency: "HKD", Detail: "paid in the journal, not in Alipay's file"}}}
	if err := st.Save(e.ctx(), &recon.Result{Report: rep}, time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, page := get(t, c, e.base+"/reconcile")
	for _, want := range []string{`id="recon-exceptions"`, "TBX-MISSING-1", "9.90 HKD", "paid in the journal, not in Alipay&#39;s file"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Recon page lacks %q", want)
		}
	}
	if strings.Contains(page, `method="post"`) && strings.Contains(page, "reconcile/") {
		t.Error("the Recon page offers an action; it is read-only")
	}
}
