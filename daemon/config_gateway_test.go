package daemon

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// gatewayConfig is minimalConfig with an inline MD5 key (so the client can
// be built without key files) and the given extra [gateway] lines.
func gatewayConfig(extra string) string {
	src := strings.Replace(minimalConfig, `md5_key_file = "keys/md5.key"`,
		`md5_key = "10000000000000000000000000000000"`, 1)
	return strings.Replace(src, "[gateway]\n", "[gateway]\n"+extra+"\n", 1)
}

// A plain http gateway URL is refused unless its host is loopback or
// gateway.insecure_http is set; https is always accepted.
func TestConfigGatewayURLPlainHTTPOnlyToLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://globalmapi.alipay.com/gateway.do", true},
		{"http://127.0.0.1:7430/gateway.do", true},
		{"http://127.1.2.3/gateway.do", true},
		{"http://[::1]:7430/gateway.do", true},
		{"http://localhost:7430/gateway.do", true},
		{"http://globalmapi.alipay.com/gateway.do", false},
		{"http://10.0.0.5:8080/gateway.do", false},
		{"http://[2001:db8::1]/gateway.do", false},
		{"http://localhost.example.net/gateway.do", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			src := gatewayConfig("url = " + `"` + tc.url + `"`)
			if !tc.ok {
				assertFieldError(t, src, "gateway.url")
			}
			cfg, err := DecodeConfig([]byte(src), "")
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			} else if !tc.ok && !strings.Contains(err.Error(), "insecure_http") {
				t.Fatalf("error %q does not name the setting that allows it", err)
			}
			cfg.Gateway.InsecureHTTP = true
			if err := cfg.Validate(); err != nil {
				t.Fatalf("refused with insecure_http = true: %v", err)
			}
		})
	}
}

// With gateway.insecure_http = true a non-loopback http URL is accepted
// and start-up logs one WARN line naming the setting; without the need
// (https, or loopback http) nothing is logged at WARN.
func TestConfigInsecureHTTPWarnsAtStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		extra string
		warn  bool
	}{
		{"url = \"http://10.0.0.5:8080/gateway.do\"\ninsecure_http = true", true},
		{"url = \"http://127.0.0.1:7430/gateway.do\"", false},
		{"url = \"https://globalmapi.alipay.com/gateway.do\"\ninsecure_http = true", false},
	} {
		cfg, err := DecodeConfig([]byte(gatewayConfig(tc.extra)), "")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Daemon.DataDir = t.TempDir()
		var buf bytes.Buffer
		d, err := New(cfg, Options{Logger: zerolog.New(&buf)})
		if err != nil {
			t.Fatalf("%q: New: %v", tc.extra, err)
		}
		if _, err := d.openGateway(); err != nil {
			t.Fatalf("%q: openGateway: %v", tc.extra, err)
		}
		out := buf.String()
		gotWarn := strings.Contains(out, `"level":"warn"`) && strings.Contains(out, "gateway.insecure_http")
		if gotWarn != tc.warn {
			t.Errorf("%q: warned %v, want %v; log:\n%s", tc.extra, gotWarn, tc.warn, out)
		}
		if tc.warn && strings.Count(out, "\n") != 1 {
			t.Errorf("want one log line, got:\n%s", out)
		}
	}
}
