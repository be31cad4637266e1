package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/control"
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
	ln, err := control.Listen(t.Context(), filepath.Join(dir, control.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- control.Serve(ctx, ln, d, control.Options{}) }()
	cl := control.NewClient(ln.Addr().String())
	defer cl.Close()
	s, err := cl.Status(t.Context())
	if err != nil || s.State != control.DaemonStarting || s.Healthy || !strings.Contains(strings.Join(s.Problems, ";"), "starting") {
		t.Fatalf("status while starting: %v %+v", err, s)
	}
	if _, err := cl.Queue(t.Context(), control.QueueQuery{}); !errors.Is(err, control.ErrStarting) {
		t.Fatalf("queue while starting: %v", err)
	}
	if _, err := cl.PrintTest(t.Context(), "1"); !errors.Is(err, control.ErrStarting) {
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
