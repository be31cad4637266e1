package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Planted secrets: an MD5 key, PEM key material and a customer code.
const (
	plantedMD5  = "k3y0123456789abcdefghijklmnopqrs"
	plantedCode = "286412345678901234" // 18 digits
	tradeNo     = "2013112011001004330000121536"
	plantedPEM  = "-----BEGIN PRIVATE KEY-----\n" +
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n" +
		"MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n" +
		"-----END PRIVATE KEY-----\n"
)

var fixedNow = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.UTC) }

func newTestLogs(t *testing.T, cfg Config) *Logs {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	logs, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	return logs
}

func TestSecretsAndCodesNeverReachAnyOutput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tillbridge.log")
	var console bytes.Buffer
	sys := &fakeSystem{}
	logs := newTestLogs(t, Config{File: file, Console: &console, NoColor: true, System: sys,
		Secrets: []string{plantedMD5}})
	if err := logs.AddSecret(plantedPEM); err != nil {
		t.Fatal(err)
	}
	log := WithConnLane(logs.Logger(), "c1", "1")
	log.Info().Str("code", plantedCode).Str("key", plantedMD5).Msg("scan " + plantedCode)
	log.Error().Str("pem", plantedPEM).Str("trade_no", tradeNo).Msg("sign failed with " + plantedMD5)
	// The PEM's base64 body on one line, as some configs hold it.
	oneLine := strings.Join(strings.Split(plantedPEM, "\n")[1:3], "")
	log.Warn().Str("material", oneLine).Msg("key material")
	logs.Close()

	fileText := readFile(t, file)
	outputs := map[string]string{"file": fileText, "console": console.String(), "system": sys.all()}
	for name, out := range outputs {
		for _, secret := range []string{plantedMD5, plantedCode, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj", "MzEfYyjiWA4R4"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output holds secret %q:\n%s", name, secret, out)
			}
		}
	}
	if !strings.Contains(fileText, MaskCode(plantedCode)) || !strings.Contains(fileText, Redacted) {
		t.Errorf("file lacks the masked code or the redaction marker:\n%s", fileText)
	}
	if !strings.Contains(fileText, tradeNo) {
		t.Errorf("a 28-digit trade number must not be masked:\n%s", fileText)
	}
	for _, line := range strings.Split(strings.TrimSpace(fileText), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("redacted line is no longer JSON: %v\n%s", err, line)
		}
		if m[KeyConn] != "c1" || m[KeyLane] != "1" {
			t.Errorf("line lacks conn/lane: %s", line)
		}
	}
}

func TestMaskCode(t *testing.T) {
	for in, want := range map[string]string{
		plantedCode: "****1234", "1234": "****", "": "****", "12345": "****2345",
	} {
		if got := MaskCode(in); got != want {
			t.Errorf("MaskCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactDigitRunBounds(t *testing.T) {
	r, err := NewRedactor()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"x=" + strings.Repeat("1", 15) + ";":  "x=" + strings.Repeat("1", 15) + ";", // too short
		"x=" + strings.Repeat("1", 16) + ";":  "x=****1111;",
		"x=" + strings.Repeat("2", 24):        "x=****2222",
		"x=" + strings.Repeat("3", 25) + " y": "x=" + strings.Repeat("3", 25) + " y", // too long
		"amount 1000 ref 42":                  "amount 1000 ref 42",
	}
	for in, want := range cases {
		if got := r.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddSecretRefusesShortSecrets(t *testing.T) {
	r, _ := NewRedactor()
	if err := r.AddSecret("abc"); !errors.Is(err, ErrSecretTooShort) {
		t.Fatalf("AddSecret(short) = %v, want ErrSecretTooShort", err)
	}
	if err := r.AddSecret("  "); err != nil {
		t.Fatalf("blank secret: %v", err)
	}
}

func TestFileRotatesAtSizeLimit(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tillbridge.log")
	logs := newTestLogs(t, Config{File: file, MaxSizeMB: 1, MaxFiles: 3})
	log := logs.Logger()
	pad := strings.Repeat("x", 1000)
	const lines = 1500 // ~1.5 MB: one rotation at 1 MB
	for i := 0; i < lines; i++ {
		log.Info().Int("i", i).Str("pad", pad).Msg("filler")
	}
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rotated []string
	total := 0
	for _, e := range entries {
		if e.Name() != "tillbridge.log" {
			rotated = append(rotated, e.Name())
		}
		total += countLines(t, filepath.Join(dir, e.Name()))
		if info, _ := e.Info(); info.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, over the 1 MB limit", e.Name(), info.Size())
		}
	}
	if len(rotated) != 1 || !strings.HasPrefix(rotated[0], "tillbridge-") {
		t.Fatalf("want exactly one rotated file, got %v", rotated)
	}
	if total != lines {
		t.Fatalf("lines across files = %d, want %d (none lost in rotation)", total, lines)
	}
}

func TestConsoleFormatIsReadable(t *testing.T) {
	var console bytes.Buffer
	logs := newTestLogs(t, Config{Console: &console, NoColor: true, Level: "debug"})
	lane := WithLane(logs.Logger(), "2")
	lane.Info().Str("ref", "T-9").Msg("sale approved")
	log := logs.Logger()
	log.Debug().Msg("detail")
	log.Trace().Msg("hidden")
	got := console.String()
	want := "2026-03-04 05:06:07.008 INF sale approved lane=2 ref=T-9\n" +
		"2026-03-04 05:06:07.008 DBG detail\n"
	if got != want {
		t.Fatalf("console:\n%q\nwant\n%q", got, want)
	}
}

func TestLevelsAndBadLevel(t *testing.T) {
	var out bytes.Buffer
	logs := newTestLogs(t, Config{Console: &out, ConsoleFormat: FormatJSON, Level: "warn"})
	log := logs.Logger()
	log.Info().Msg("dropped")
	log.Warn().Msg("kept")
	if s := out.String(); strings.Contains(s, "dropped") || !strings.Contains(s, `"message":"kept"`) {
		t.Fatalf("level warn output: %s", s)
	}
	if !strings.Contains(out.String(), `"time":"2026-03-04T05:06:07.008Z"`) {
		t.Fatalf("time field: %s", out.String())
	}
	if _, err := New(Config{Level: "verbose"}); !errors.Is(err, ErrBadLevel) {
		t.Fatalf("New(level verbose) = %v, want ErrBadLevel", err)
	}
	if _, err := New(Config{Console: &out, ConsoleFormat: "xml"}); err == nil {
		t.Fatal("New(console format xml) succeeded")
	}
}

func TestSystemLogGetsErrorsAndLifecycleOnly(t *testing.T) {
	sys := &fakeSystem{}
	logs := newTestLogs(t, Config{System: sys})
	log := logs.Logger()
	log.Info().Msg("routine")
	log.Warn().Msg("routine warning")
	Lifecycle(log.Info()).Str("version", "v1").Msg("tillbridge started")
	log.Error().Str("err", "disk full").Msg("journal write failed")
	Lifecycle(log.Warn()).Msg("stopping")
	want := []string{
		"info: tillbridge started (version=v1)",
		"error: journal write failed (err=disk full)",
		"warning: stopping",
	}
	if got := sys.lines; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("system log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := logs.Close(); err != nil || !sys.closed {
		t.Fatalf("Close: %v, system log closed %v", err, sys.closed)
	}
}

// fakeSystem records what reaches the system log.
type fakeSystem struct {
	lines  []string
	closed bool
}

func (f *fakeSystem) Error(m string) error   { f.lines = append(f.lines, "error: "+m); return nil }
func (f *fakeSystem) Warning(m string) error { f.lines = append(f.lines, "warning: "+m); return nil }
func (f *fakeSystem) Info(m string) error    { f.lines = append(f.lines, "info: "+m); return nil }
func (f *fakeSystem) Close() error           { f.closed = true; return nil }
func (f *fakeSystem) all() string            { return strings.Join(f.lines, "\n") }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		n++
	}
	return n
}

func TestRedactKeepsIdentifiersMasksCodes(t *testing.T) {
	r, err := NewRedactor()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		// A partner_trans_id whose terminal, time and random parts join into a
		// long digit run is an identifier, not a customer code.
		{`"partner_trans_id":"TBLANE120261125194332R7QX"`, `"partner_trans_id":"TBLANE120261125194332R7QX"`},
		{`"barcode":"281234567890123456"`, `"barcode":"****3456"`},
		{`code=281234567890123456 lane=1`, `code=****3456 lane=1`},
		// The letter of an escape is a delimiter: "\n" then a code.
		{`scanned\n281234567890123456\n`, `scanned\n****3456\n`},
		{`x281234567890123456`, `x281234567890123456`},
		{`281234567890123456z`, `281234567890123456z`},
		// 28-digit Alipay trade numbers and short amounts are left alone.
		{`2024010122001400001234567890 1250`, `2024010122001400001234567890 1250`},
	}
	for _, c := range cases {
		if got := r.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
