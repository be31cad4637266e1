package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/validate"
)

// runValidateCmd runs `tillbridge validate` in-process, bounded.
func runValidateCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := runMain(ctx, cmdIO{strings.NewReader(""), &out, &errb}, append([]string{"validate"}, args...))
	return code, out.String(), errb.String()
}

// TestValidateCommand is the short form of the certification run in `make
// test`: a few cases on the sandbox through the command, its exit code,
// its summary and its three report files; then the HTML report opened in a
// real browser (headless Chromium), when it is installed.
func TestValidateCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report")
	code, stdout, stderr := runValidateCmd(t, "--out", out, "--cases", "SPOT-001,SPOT-003,SPOT-004,REFUND")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"PASS SPOT-001", "PASS SPOT-003", "PASS SPOT-004", "PASS REFUND", "PASSED: 4 passed, 0 failed"} {
		if !strings.Contains(strings.Join(strings.Fields(stdout), " "), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	var rep validate.Report
	b, err := os.ReadFile(filepath.Join(out, validate.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || !rep.Passed || len(rep.Cases) != 4 {
		t.Fatalf("JSON report: %v, passed %v, %d cases", err, rep.Passed, len(rep.Cases))
	}
	t.Run("browser", func(t *testing.T) { screenshotReport(t, filepath.Join(out, validate.HTMLFile)) })
}

// screenshotReport opens the report in headless Chromium and checks the
// picture shows the page: the green PASSED badge and the dark lifeline
// heads of the timeline.
func screenshotReport(t *testing.T, report string) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (scripts/need.sh chromium:/usr/bin/chromium); the browser check is skipped")
	}
	dir := t.TempDir()
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=1280,2000",
		"file://"+report)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	img := readPNG(t, shot)
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Fatalf("screenshot %v", b)
	}
	var green, dark, white int
	for y := 0; y < 2000; y++ {
		for x := 0; x < 1280; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			r, g, b = r>>8, g>>8, b>>8
			switch {
			case r < 60 && g > 110 && g < 160 && b < 90: // #1f883d: PASSED badge, PASS cells
				green++
			case r < 50 && g < 50 && b < 60: // #24292f lifeline heads, text
				dark++
			case r > 245 && g > 245 && b > 245:
				white++
			}
		}
	}
	if green < 300 || dark < 2000 || white > 1280*2000*97/100 {
		t.Fatalf("the page did not render as expected: %d green, %d dark, %d white pixels (screenshot %s)", green, dark, white, shot)
	}
}

func TestValidateCommandUsage(t *testing.T) {
	if code, _, _ := runValidateCmd(t, "--against", "elsewhere", "--out", t.TempDir()); code != exitUsage {
		t.Errorf("bad --against: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runValidateCmd(t, "--cases", "SPOT-999", "--out", t.TempDir()); code != exitUsage {
		t.Errorf("unknown case: exit %d, want %d", code, exitUsage)
	}
	code, out, _ := runValidateCmd(t, "--list")
	if code != exitOK || !strings.Contains(out, "SPOT-006") || !strings.Contains(out, "KILL-9") {
		t.Errorf("--list: exit %d\n%s", code, out)
	}
}

// TestValidateCommandFails: the venue's configuration lacks store_id, so
// pre-flight fails, no case runs and the exit code is 1.
func TestValidateCommandFails(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "md5.key")
	if err := os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "tillbridge.toml")
	toml := "[gateway]\npartner = \"2088000000000000\"\nmd5_key_file = \"" + key + "\"\n" +
		"secondary_merchant_id = \"V1\"\nsecondary_merchant_name = \"Venue\"\nsecondary_merchant_industry = \"7991\"\nstore_name = \"Gate\"\n" +
		"[[lane]]\nid = \"1\"\n"
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report")
	code, stdout, stderr := runValidateCmd(t, "--config", cfg, "--out", out, "--cases", "SPOT-001")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailure, stdout, stderr)
	}
	if !strings.Contains(stdout, "FAIL extend_info fields") || !strings.Contains(stdout, "not run") {
		t.Errorf("summary:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, validate.HTMLFile)); err != nil {
		t.Errorf("no HTML report after a failed run: %v", err)
	}
}
