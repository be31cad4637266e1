package main

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// diagBound bounds every wait of the diagnostics tests; none asserts on
// a duration.
const diagBound = 30 * time.Second

// till is the daemon run as `tillbridge run` runs it (runDaemon: the
// production logging), on an in-process sandbox.
type till struct {
	t    *testing.T
	dir  string
	sb   *daemon.Sandbox
	cfg  *daemon.Config
	ecr  string
	key  string // the ECR shared key, if any
	stop func()
}

// tillSetup adjusts the sandbox and the daemon's configuration.
type tillSetup struct {
	sandbox func(*daemon.SandboxOptions)
	config  func(*daemon.Config)
}

// startTill runs a daemon with 2 lanes on short timings, logging at trace
// level to DATA/tillbridge.log, and waits until it is ready.
func startTill(t *testing.T, setup tillSetup) *till {
	t.Helper()
	dir := t.TempDir()
	pay := daemon.NewConfig().Payment
	pay.FirstQuery, pay.QueryInterval, pay.PayDeadline = 80*time.Millisecond, 80*time.Millisecond, 1500*time.Millisecond
	pay.BackoffMin, pay.BackoffMax = 50*time.Millisecond, 200*time.Millisecond
	so := daemon.SandboxOptions{DataDir: dir, ECRListen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0", Lanes: 2,
		Payment: &pay, GatewayTimeout: 500 * time.Millisecond, Gateway: sandbox.Config{AutoClose: 30 * time.Second}}
	if setup.sandbox != nil {
		setup.sandbox(&so)
	}
	sb, err := daemon.StartSandbox(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = sb.Close(ctx)
	})
	cfg := sb.Config
	cfg.Daemon.LogFile = filepath.Join(dir, "tillbridge.log")
	if setup.config != nil {
		setup.config(cfg)
	}
	tl := &till{t: t, dir: dir, sb: sb, cfg: cfg, key: cfg.Listen[0].SharedKey}
	tl.run()
	return tl
}

// run starts the daemon and waits for it.
func (tl *till) run() {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	done := make(chan error, 1)
	cio := cmdIO{strings.NewReader(""), &safeBuffer{}, &safeBuffer{}}
	go func() { done <- runDaemon(ctx, cio, tl.cfg, "trace", nil, func(a []net.Addr) { ready <- a }) }()
	select {
	case a := <-ready:
		tl.ecr = a[0].String()
	case err := <-done:
		tl.t.Fatalf("daemon stopped during start-up: %v", err)
	case <-time.After(diagBound):
		tl.t.Fatal("daemon not ready")
	}
	stopped := false
	tl.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tl.t.Errorf("daemon: %v", err)
			}
		case <-time.After(diagBound):
			tl.t.Error("daemon did not stop")
		}
	}
	tl.t.Cleanup(tl.stop)
}

// cli runs a tillbridge command against this till (--data DIR added).
func (tl *till) cli(args ...string) (int, string, string) {
	tl.t.Helper()
	return run(tl.t, append(args, "--data", tl.dir)...)
}

// sale runs one SALE to its final answer.
func (tl *till) sale(lane, ref, code string) *ecrproto.Message {
	tl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), diagBound)
	defer cancel()
	c, err := ecrproto.Dial(ctx, "tcp", tl.ecr, &ecrproto.ClientOptions{Key: tl.key})
	if err != nil {
		tl.t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Do(ctx, &ecrproto.Message{Type: ecrproto.TypeSale, Lane: lane, Ref: ref,
		Amount: ecrproto.Int(1250), Currency: "HKD", Barcode: code})
	if err != nil {
		tl.t.Fatalf("sale %s: %v", ref, err)
	}
	return res
}

// statusUntil runs `status --json` until cond holds (bounded).
func (tl *till) statusUntil(what string, cond func(control.StatusSnapshot) bool) control.StatusSnapshot {
	tl.t.Helper()
	deadline := time.Now().Add(diagBound)
	for {
		_, out, errOut := tl.cli("status", "--json")
		var s control.StatusSnapshot
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			tl.t.Fatalf("status --json: %v\n%s%s", err, out, errOut)
		}
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tl.t.Fatalf("status never showed %s: %s", what, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStatusCommand(t *testing.T) {
	tl := startTill(t, tillSetup{})
	code, out, errOut := tl.cli("status")
	if code != exitOK || !strings.Contains(out, ": ready, up") || !strings.Contains(out, "SANDBOX-2") ||
		!strings.Contains(out, "healthy") || !strings.Contains(out, "service:") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = tl.cli("status", "--json")
	var s control.StatusSnapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil || code != exitOK || s.Service == nil || len(s.Lanes) != 2 {
		t.Fatalf("status --json: exit %d, %v\n%s", code, err, out)
	}
	tl.stop()
	code, out, errOut = tl.cli("status")
	if code != exitNoDaemon || !strings.Contains(errOut, "tillbridge daemon is not running (no control socket at "+
		filepath.Join(tl.dir, "control.sock")+")") || !strings.Contains(errOut, "tillbridge start") ||
		!strings.Contains(out, "service:") {
		t.Fatalf("status of a stopped daemon: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = tl.cli("status", "--json")
	if code != exitNoDaemon || !strings.Contains(out, `"running": false`) {
		t.Fatalf("status --json of a stopped daemon: exit %d\n%s", code, out)
	}
}

func TestDiagFlagsFindTheDaemon(t *testing.T) {
	dir := t.TempDir()
	var f ctlFlags
	fs := newCtlFlagSet("x", "", cmdIO{stderr: &safeBuffer{}}, &f)
	if err := fs.Parse([]string{"--data", dir}); err != nil {
		t.Fatal(err)
	}
	if addr, _ := f.target(); addr != filepath.Join(dir, "control.sock") {
		t.Fatalf("--data: %s", addr)
	}
	if err := fs.Parse([]string{"--socket", "/x/y.sock"}); err != nil {
		t.Fatal(err)
	}
	if addr, _ := f.target(); addr != "/x/y.sock" {
		t.Fatalf("--socket: %s", addr)
	}
	cfgFile := filepath.Join(dir, "tb.toml")
	writeFile(t, cfgFile, 0o600, validConfig(dir)+"\n[control]\nsocket = \"ctl/c.sock\"\n")
	var g ctlFlags
	gs := newCtlFlagSet("x", "", cmdIO{stderr: &safeBuffer{}}, &g)
	if err := gs.Parse([]string{"--config", cfgFile}); err != nil {
		t.Fatal(err)
	}
	if addr, cfg := g.target(); addr != filepath.Join(dir, "ctl", "c.sock") || cfg == nil {
		t.Fatalf("--config with [control] socket: %s", addr)
	}
}

// TestDiagnosticsAgainstRunSandbox is the "done when": status
// --json, queue list --json and gateway-check against `tillbridge run
// --sandbox`, through the real command line.
func TestDiagnosticsAgainstRunSandbox(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, cmdIO{strings.NewReader(""), &safeBuffer{}, &safeBuffer{}}, []string{"run", "--sandbox",
			"--data", dir, "--ecr-listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0", "--lanes", "1"})
	}()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("run exited %d", code)
		}
	}()
	var code int
	var out string
	for end := time.Now().Add(diagBound); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if code, out, _ = run(t, "status", "--json", "--data", dir); code == exitOK {
			break // 3 until it listens, 4 while it starts
		}
	}
	var s control.StatusSnapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil || code != exitOK || s.State != control.DaemonReady {
		t.Fatalf("status --json: exit %d, %v\n%s", code, err, out)
	}
	if code, out, _ := run(t, "queue", "list", "--json", "--data", dir); code != exitOK || strings.TrimSpace(out) != "[]" {
		t.Fatalf("queue list --json: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "gateway-check", "--data", dir); code != exitOK || !strings.Contains(out, "verdict: ok") {
		t.Fatalf("gateway-check: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "print-test", "--data", dir); code != exitOK {
		t.Fatalf("print-test on the only lane: exit %d\n%s", code, out)
	}
}
