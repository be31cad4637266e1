package daemon_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// gatewayCase sets up a daemon whose gateway is broken one way, and the
// verdict a gateway check must reach.
type gatewayCase struct {
	name    string
	verdict string
	config  func(t *testing.T, c *daemon.Config)
}

func TestControlGatewayCheckVerdicts(t *testing.T) {
	cases := []gatewayCase{
		{"sandbox", control.VerdictOK, nil},
		{"wrong MD5 key", control.VerdictKeyMismatch, func(t *testing.T, c *daemon.Config) {
			c.Gateway.MD5KeyFile = writeKey(t, "0123456789abcdef0123456789abcdef")
		}},
		{"unknown partner", control.VerdictPartner, func(_ *testing.T, c *daemon.Config) {
			c.Gateway.Partner = "2088000000000001"
		}},
		{"nothing listens", control.VerdictNetwork, func(t *testing.T, c *daemon.Config) {
			c.Gateway.URL = "http://" + closedAddr(t) + "/gateway.do"
		}},
		{"not a gateway", control.VerdictNotGateway, func(t *testing.T, c *daemon.Config) {
			c.Gateway.URL = serve(t, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<html>portal</html>")) })
		}},
		{"proxy error", control.VerdictHTTP, func(t *testing.T, c *daemon.Config) {
			c.Gateway.URL = serve(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		}},
		{"no answer in time", control.VerdictTimeout, func(t *testing.T, c *daemon.Config) {
			c.Gateway.URL = serve(t, func(_ http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body) // then the server notices the client hanging up
				<-r.Context().Done()
			})
		}},
		{"clock ten minutes off", control.VerdictClockSkew, func(t *testing.T, c *daemon.Config) {
			c.Gateway.URL = skewedProxy(t, c.Gateway.URL, 10*time.Minute)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkVerdict(t, tc) })
	}
}

func checkVerdict(t *testing.T, tc gatewayCase) {
	e := startCtlEnv(t, daemonenv.WithConfig(func(c *daemon.Config) {
		if tc.config != nil {
			tc.config(t, c)
		}
	}))
	res, err := e.Control.GatewayCheck(e.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != tc.verdict || res.OK != (tc.verdict == control.VerdictOK) || res.Advice == "" {
		t.Fatalf("verdict %q (ok=%v, code %q, error %q), want %q", res.Verdict, res.OK, res.Code, res.Error, tc.verdict)
	}
	switch tc.verdict {
	case control.VerdictOK:
		if !res.Answered || !res.Verified || !res.ClockKnown || res.TradeID == "" {
			t.Fatalf("ok check: %+v", res)
		}
	case control.VerdictClockSkew:
		if skew := time.Duration(res.ClockSkewMS) * time.Millisecond; skew > -9*time.Minute || skew < -11*time.Minute {
			t.Fatalf("skew %s, want about -10m", skew)
		}
	case control.VerdictKeyMismatch:
		if res.Code != "ILLEGAL_SIGN" {
			t.Fatalf("code %q", res.Code)
		}
	}
	s, err := e.Control.Status(e.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	wantReach := control.ReachableYes
	if tc.verdict != control.VerdictOK && tc.verdict != control.VerdictClockSkew {
		wantReach = control.ReachableNo
	}
	if s.Gateway.Reachable != wantReach {
		t.Fatalf("after the check, reachable %q, want %q", s.Gateway.Reachable, wantReach)
	}
}

// writeKey writes a key file (0600) and returns its path.
func writeKey(t *testing.T, key string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "md5.key")
	if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serve starts a test HTTP server and returns its gateway URL.
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/gateway.do"
}

// skewedProxy forwards to the gateway at target and moves its Date
// header by ahead.
func skewedProxy(t *testing.T, target string, ahead time.Duration) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	p.ModifyResponse = func(r *http.Response) error {
		r.Header.Set("Date", time.Now().Add(ahead).UTC().Format(http.TimeFormat))
		return nil
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL + u.Path
}
