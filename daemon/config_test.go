package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

const minimalConfig = `
[gateway]
partner = "2088101122136241"
md5_key_file = "keys/md5.key"

[[lane]]
id = "1"
`

func TestSampleConfigDecodesStrictlyAndValidates(t *testing.T) {
	cfg, err := DecodeConfig(SampleConfig(), "/etc/tillbridge")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Lanes) != 2 || cfg.Lanes[0].TerminalID != "GATE-1" || cfg.Printers["front"].VID != 0x0416 {
		t.Fatalf("sample decoded to %+v", cfg)
	}
}

func TestDecodeConfigDefaults(t *testing.T) {
	cfg, err := DecodeConfig([]byte(minimalConfig), "/base")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Listen; len(got) != 1 || got[0].Network != "tcp" || got[0].Address != DefaultECRAddress {
		t.Errorf("default listener = %+v", got)
	}
	if cfg.Payment.PayDeadline != 60*time.Second || cfg.Payment.FirstQuery != 3500*time.Millisecond {
		t.Errorf("payment defaults = %+v", cfg.Payment)
	}
	if cfg.Gateway.MD5KeyFile != filepath.Join("/base", "keys/md5.key") {
		t.Errorf("relative key path not resolved: %q", cfg.Gateway.MD5KeyFile)
	}
	if cfg.Lanes[0].TerminalID != "1" {
		t.Errorf("terminal_id default = %q", cfg.Lanes[0].TerminalID)
	}
}

func TestDecodeConfigUnknownKeysNamedWithLines(t *testing.T) {
	src := minimalConfig + `
[payment]
first_qeury = "1s"

[printer.p]
backend = "file"
path = "x"
colour = "red"
`
	_, err := DecodeConfig([]byte(src), "")
	var uk *UnknownKeysError
	if !errors.As(err, &uk) {
		t.Fatalf("err = %v, want UnknownKeysError", err)
	}
	msg := err.Error()
	for _, want := range []string{"payment.first_qeury (line 10)", "printer.p.colour (line 15)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestValidateNamesFields(t *testing.T) {
	tests := []struct {
		name, extra, field string
	}{
		{"bad partner", `partner = "1234"`, "gateway.partner"},
		{"bad sign type", `sign_type = "SHA1"`, "gateway.sign_type"},
		{"rsa without keys", `sign_type = "RSA2"`, "gateway.private_key_file"},
		{"md5 twice", `md5_key = "k"`, "gateway.md5_key"},
		{"zero timeout", `timeout = "0s"`, "gateway.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimalConfig, "[gateway]\n", "[gateway]\n"+tt.extra+"\n", 1)
			src = dedupeKey(src, tt.extra)
			assertFieldError(t, src, tt.field)
		})
	}
	more := []struct{ name, src, field string }{
		{"remote listener", minimalConfig + "[[listen]]\naddress = \"0.0.0.0:7420\"\n", "listen[0].address"},
		{"remote without key", minimalConfig + "[[listen]]\naddress = \"10.0.0.1:7420\"\nallow_remote = true\n", "listen[0].shared_key_file"},
		{"short shared key", minimalConfig + "[[listen]]\naddress = \"10.0.0.1:7420\"\nallow_remote = true\nshared_key = \"k3y\"\n", "listen[0].shared_key"},
		{"15-character shared key", minimalConfig + "[[listen]]\naddress = \"127.0.0.1:7420\"\nshared_key = \"0123456789abcde\"\n", "listen[0].shared_key"},
		{"negative listener cap", minimalConfig + "[[listen]]\naddress = \"127.0.0.1:7420\"\nmax_conns = -1\n", "listen[0].max_conns"},
		{"negative peer cap", minimalConfig + "[[listen]]\naddress = \"127.0.0.1:7420\"\nmax_conns_per_peer = -1\n", "listen[0].max_conns_per_peer"},
		{"negative hello timeout", minimalConfig + "[[listen]]\naddress = \"127.0.0.1:7420\"\nhello_timeout = \"-1s\"\n", "listen[0].hello_timeout"},
		{"negative ecr cap", minimalConfig + "[ecr]\nmax_conns = -1\n", "ecr.max_conns"},
		{"reserve over half", minimalConfig + "[ecr]\nmax_conns = 10\nlocal_reserve = 6\n", "ecr.local_reserve"},
		{"bad network", minimalConfig + "[[listen]]\nnetwork = \"udp\"\naddress = \"x\"\n", "listen[0].network"},
		{"unknown printer", minimalConfig + "printer = \"nope\"\n", "lane[0].printer"},
		{"duplicate lane", minimalConfig + "[[lane]]\nid = \"1\"\n", "lane[1].id"},
		{"usb printer without ids", minimalConfig + "[printer.p]\nbackend = \"usb\"\n", "printer.p.vid"},
		{"bad width", minimalConfig + "[printer.p]\nbackend = \"simulated\"\nwidth = 76\n", "printer.p.width"},
		{"deadline before first query", minimalConfig + "[payment]\nfirst_query = \"90s\"\n", "payment.first_query"},
		{"shared scanner", minimalConfig + "scanner = \"s\"\n[[lane]]\nid = \"2\"\nscanner = \"s\"\n[scanner.s]\nbackend = \"simulated\"\n", "lane[1].scanner"},
		{"unknown profile", minimalConfig + "[printer.p]\nbackend = \"simulated\"\nprofile = \"generic\"\n", "printer.p.profile"},
		{"unknown code page", minimalConfig + "[printer.p]\nbackend = \"simulated\"\ncode_page = \"latin9\"\n", "printer.p.code_page"},
		{"bad layout", minimalConfig + "[scanner.s]\nbackend = \"simulated\"\nlayout = \"xx\"\n", "scanner.s.layout"},
	}
	for _, tt := range more {
		t.Run(tt.name, func(t *testing.T) { assertFieldError(t, tt.src, tt.field) })
	}
}

// TestLaneIDRuleIsTheProtocols: a lane id the ECR protocol would refuse in
// every request ("Lane 1": E_FIELD lane) is a config error naming the lane
// and the rule; one the protocol takes ("a=b") is accepted.
func TestLaneIDRuleIsTheProtocols(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{{"Lane 1", false}, {"kasse\u00e9", false}, {strings.Repeat("x", 33), false}, {"a=b", true}, {"Lane-1", true}} {
		cfg, err := DecodeConfig([]byte(strings.Replace(minimalConfig, `id = "1"`, fmt.Sprintf("id = %q", tt.id), 1)), "")
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.Validate()
		if tt.ok {
			if err != nil {
				t.Errorf("lane %q: %v", tt.id, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "lane[0].id") || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.id)) ||
			!strings.Contains(err.Error(), "printable ASCII without spaces") {
			t.Errorf("lane %q: %v", tt.id, err)
		}
	}
}

// TestShortSharedKeyRefused: a shared key under 16 characters is a config
// error (inline) or a start-up error (from a file), with the rule; 16 is
// accepted.
func TestShortSharedKeyRefused(t *testing.T) {
	const short = "0123456789abcde" // 15
	cfg, err := DecodeConfig([]byte(minimalConfig+"[[listen]]\naddress = \"127.0.0.1:7420\"\nshared_key = \""+short+"\"\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "listen[0].shared_key") ||
		!strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("short inline key: %v", err)
	}
	path := filepath.Join(t.TempDir(), "shared.key")
	if err := os.WriteFile(path, []byte(short+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := listenConfig(ListenConfig{Network: "tcp", Address: "127.0.0.1:0", SharedKeyFile: path}); err == nil ||
		!strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("short key file: %v", err)
	}
	cfg.Listen[0].SharedKey = short + "f"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a 16-character key: %v", err)
	}
}

// TestListenerLimitsConfig: the [ecr] and [[listen]] limits reach the
// ECR server's options.
func TestListenerLimitsConfig(t *testing.T) {
	src := minimalConfig + "[ecr]\nmax_conns = 40\nlocal_reserve = 10\n" +
		"[[listen]]\naddress = \"127.0.0.2:7420\"\nshared_key = \"0123456789abcdef\"\nmax_conns = 5\nmax_conns_per_peer = 2\nhello_timeout = \"3s\"\n"
	cfg, err := DecodeConfig([]byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.ECR.MaxConns != 40 || cfg.ECR.LocalReserve != 10 {
		t.Errorf("[ecr] = %+v", cfg.ECR)
	}
	lc, err := listenConfig(cfg.Listen[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := (ecrproto.RemoteOptions{MaxConns: 5, MaxConnsPerPeer: 2, HelloTimeout: 3 * time.Second}); lc.Remote != want {
		t.Errorf("remote options = %+v, want %+v", lc.Remote, want)
	}
}

// dedupeKey drops the original line of a key that extra redefines.
func dedupeKey(src, extra string) string {
	key, _, _ := strings.Cut(extra, " =")
	lines := strings.Split(src, "\n")
	out := lines[:0]
	seen := false
	for _, l := range lines {
		if strings.HasPrefix(l, key+" =") {
			if seen {
				continue
			}
			seen = true
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func assertFieldError(t *testing.T, src, field string) {
	t.Helper()
	cfg, err := DecodeConfig([]byte(src), "")
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	err = cfg.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want ValidationError", err)
	}
	for _, f := range ve.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("error %q does not name %s", err, field)
}

func TestLoadConfigResolvesAgainstFileDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tillbridge.toml")
	if err := os.WriteFile(path, []byte(minimalConfig+"[daemon]\ndata_dir = \"data\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Daemon.DataDir != filepath.Join(dir, "data") {
		t.Fatalf("data_dir = %q", cfg.Daemon.DataDir)
	}
}

func TestLoadConfigUnknownKeyNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, []byte(minimalConfig+"[recipt]\nvenue = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "recipt") {
		t.Fatalf("err = %v", err)
	}
}

// TestSampleConfigDevicesOpen builds every printer of the sample config
// (nothing is opened until the first print).
func TestSampleConfigDevicesOpen(t *testing.T) {
	cfg, err := DecodeConfig(SampleConfig(), "/etc/tillbridge")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{})
	if err == nil {
		t.Fatal("New accepted a config without data_dir")
	}
	cfg.Daemon.DataDir = t.TempDir()
	if d, err = New(cfg, Options{}); err != nil {
		t.Fatal(err)
	}
	for name := range cfg.Printers {
		p, err := d.openPrinter(name)
		if err != nil {
			t.Fatalf("printer %s: %v", name, err)
		}
		p.Close()
	}
}
