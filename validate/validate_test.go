package validate_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/validate"
)

// testBound bounds a whole run: a hung daemon fails the test.
const testBound = 5 * time.Minute

// buildBinary builds cmd/tillbridge (no race detector: the subprocess is
// the system under test) for the kill -9 case.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tillbridge")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tillbridge/tillbridge/cmd/tillbridge")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tillbridge: %v\n%s", err, out)
	}
	return bin
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// fullCode matches an unmasked sandbox buyer code (18 or 24 digits, 28…).
var fullCode = regexp.MustCompile(`\b28\d{16}(\d{6})?\b`)

// TestValidateKill9 runs the crash case on the real binary, SIGKILLed
// with two sales in flight (skipped with -short: it builds the binary).
func TestValidateKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the kill -9 case builds the tillbridge binary (make validate runs it too)")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	rep, err := validate.Run(ctx, validate.Options{OutDir: t.TempDir(), Executable: bin, Cases: []string{"KILL-9"},
		Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Cases[0]
	if !rep.Passed || c.Verdict != validate.Pass || len(c.Checks) < 6 || !c.Ledger.OK || len(c.Journal) != 2 {
		t.Fatalf("passed %v: %s %s, %d checks, ledger %+v, %d journal ops", rep.Passed, c.Verdict, c.Reason,
			len(c.Checks), c.Ledger, len(c.Journal))
	}
}

// TestValidateSandbox runs every other case unattended through the real
// daemon and checks the verdicts and the evidence in the three report
// files.
func TestValidateSandbox(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	var ids []string
	for _, c := range validate.Cases() {
		if !c.Kill9 {
			ids = append(ids, c.ID)
		}
	}
	rep, err := validate.Run(ctx, validate.Options{OutDir: out, Cases: ids, Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	paths, err := validate.WriteFiles(out, rep)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		var b strings.Builder
		_ = validate.WriteText(&b, rep)
		t.Fatalf("run failed:\n%s", b.String())
	}
	if len(rep.Cases) != len(ids) {
		t.Fatalf("%d cases reported, want %d", len(rep.Cases), len(ids))
	}
	for _, c := range rep.Cases {
		if c.Verdict != validate.Pass {
			t.Errorf("%s: %s %s", c.ID, c.Verdict, c.Reason)
		}
		if len(c.Checks) == 0 || len(c.Gateway) == 0 || len(c.Journal) == 0 || !c.Ledger.Available || len(c.Ledger.Lines) == 0 {
			t.Errorf("%s: evidence missing: %d checks, %d gateway calls, %d journal ops, ledger %+v",
				c.ID, len(c.Checks), len(c.Gateway), len(c.Journal), c.Ledger)
		}
	}
	key, err := os.ReadFile(filepath.Join(out, "data", "main", "sandbox-md5.key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if m := fullCode.FindString(s); m != "" {
			t.Errorf("%s shows a full buyer code %s", filepath.Base(p), m)
		}
		if strings.Contains(s, strings.TrimSpace(string(key))) {
			t.Errorf("%s shows the MD5 key", filepath.Base(p))
		}
	}
	checkHTML(t, filepath.Join(out, validate.HTMLFile), len(rep.Cases))
	var back validate.Report
	b, _ := os.ReadFile(filepath.Join(out, validate.JSONFile))
	if err := json.Unmarshal(b, &back); err != nil || !back.Passed || len(back.Cases) != len(rep.Cases) {
		t.Fatalf("JSON report: %v, passed %v, %d cases", err, back.Passed, len(back.Cases))
	}
}

// checkHTML checks that the HTML report is self-contained and holds a
// timeline picture per case and receipt pictures.
func checkHTML(t *testing.T, path string, cases int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if n := strings.Count(s, "<svg "); n != cases {
		t.Errorf("%d timeline pictures, want %d", n, cases)
	}
	if !strings.Contains(s, `src="data:image/png;base64,`) {
		t.Error("no receipt picture")
	}
	for _, ext := range []string{`src="http`, `href="http`, "<script", "<link"} {
		if strings.Contains(s, ext) {
			t.Errorf("the HTML report is not self-contained: %s", ext)
		}
	}
}
