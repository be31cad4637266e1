package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

// TestControlWhileStarting serves the control API of a daemon that has not
// started: every answer says so, the status is unhealthy.
func TestControlWhileStarting(t *testing.T) {
	dir := t.TempDir()
	cfg := NewConfig()
	cfg.Daemon.DataDir = dir
	cfg.Gateway.Partner, cfg.Gateway.MD5Key = "2088000000007430", "0123456789abcdef"
	cfg.Lanes = []LaneConfig{{ID: "1", TerminalID: "T1"}}
	cfg.applyDefaults()
	d, err := New(cfg, Options{Version: "v-test"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := ListenControl(t.Context(), filepath.Join(dir, ControlSocketName))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeControl(ctx, ln, d, ControlOptions{}) }()
	cl := NewControlClient(ln.Addr().String())
	defer cl.Close()
	s, err := cl.Status(t.Context())
	if err != nil || s.State != DaemonStarting || s.Healthy || !strings.Contains(strings.Join(s.Problems, ";"), "starting") {
		t.Fatalf("status while starting: %v %+v", err, s)
	}
	if _, err := cl.Queue(t.Context(), QueueQuery{}); !errors.Is(err, ErrStarting) {
		t.Fatalf("queue while starting: %v", err)
	}
	if _, err := cl.PrintTest(t.Context(), "1"); !errors.Is(err, ErrStarting) {
		t.Fatalf("print test while starting: %v", err)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("ServeControl: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ServeControl did not return")
	}
}

func TestGatewayTrackerFromJournalEvents(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		ev        queue.Event
		reachable string
	}{
		{queue.Event{Name: queue.EventWaitScan, At: at(0)}, ReachableUnknown},
		{queue.Event{Name: queue.EventSent, Call: queue.CallPay, At: at(1)}, ReachableUnknown},
		{queue.Event{Name: queue.EventUnknown, Call: queue.CallPay, Detail: "error: alipay: send: connection refused", At: at(2)}, ReachableNo},
		{queue.Event{Name: queue.EventAttempt, Call: queue.CallQuery, At: at(3)}, ReachableNo},
		{queue.Event{Name: queue.EventAnswer, Call: queue.CallQuery, Code: "SYSTEM_ERROR", At: at(4)}, ReachableNo},
		{queue.Event{Name: queue.EventApproved, Call: queue.CallQuery, RawStatus: "TRADE_SUCCESS", At: at(5)}, ReachableYes},
		{queue.Event{Name: queue.EventDeclined, Call: queue.CallPay, Code: "BUYER_BALANCE_NOT_ENOUGH", At: at(6)}, ReachableYes},
	}
	var tr gatewayTracker
	for i, st := range steps {
		tr.observe(st.ev)
		if h := tr.health(GatewayHealth{}); h.Reachable != st.reachable {
			t.Fatalf("step %d (%s): reachable %q, want %q", i, st.ev.Name, h.Reachable, st.reachable)
		}
	}
	h := tr.health(GatewayHealth{URL: "u"})
	if h.URL != "u" || h.LastOKCall != "pay" || h.LastCode != "SYSTEM_ERROR" || !h.LastFail.Equal(at(4)) {
		t.Fatalf("health: %+v", h)
	}
}

func TestBundleRedactor(t *testing.T) {
	pemKey := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----\n"
	r := newBundleRedactor([]string{"abc", "s3cr3t-md5-key-0001", pemKey})
	cases := map[string]string{
		`"code":"281234567890123400"`:                                      `"code":"****3400"`,
		`"receipt":"Ref: 1\n281234567890123420"`:                           `"receipt":"Ref: 1\n****3420"`,
		"TBSANDBOX2202611251943322REFRPJE":                                 "TBSANDBOX2202611251943322REFRPJE",
		"amount 123456789012345 and 1234567890123456789012345":             "amount 123456789012345 and 1234567890123456789012345",
		`key=s3cr3t-md5-key-0001 abc`:                                      "key=[REDACTED] abc",
		"VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK": "[REDACTED]",
		`"pem":"` + jsonEscaped(pemKey) + `"`:                              `"pem":"[REDACTED]\n"`,
	}
	for in, want := range cases {
		if got := r.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func jsonEscaped(s string) string {
	return strings.ReplaceAll(s, "\n", `\n`)
}

func TestRedactedConfigIsACopyWithoutInlineKeys(t *testing.T) {
	cfg := NewConfig()
	cfg.Gateway.MD5Key, cfg.Gateway.MD5KeyFile = "inline-md5-key", "/etc/tillbridge/md5.key"
	cfg.Listen = []ListenConfig{{Network: "tcp", Address: "127.0.0.1:7420", SharedKey: "shared-key-1"}}
	r := RedactedConfig(cfg)
	if r.Gateway.MD5Key != RedactedValue || r.Listen[0].SharedKey != RedactedValue || r.Gateway.MD5KeyFile != cfg.Gateway.MD5KeyFile {
		t.Fatalf("redacted: %+v %+v", r.Gateway, r.Listen)
	}
	if cfg.Gateway.MD5Key != "inline-md5-key" || cfg.Listen[0].SharedKey != "shared-key-1" {
		t.Fatal("the running configuration was changed")
	}
}
