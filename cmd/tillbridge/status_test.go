package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// diagBound bounds every wait of the diagnostics tests; none asserts on
// a duration.
const diagBound = 30 * time.Second

// till is the daemon run as `tillbridge run` runs it (runDaemon: the
// production logging), on an in-process sandbox (daemonenv).
type till struct {
	*daemonenv.Env
	key string // the ECR shared key, if any
}

// startTill runs a daemon with 2 lanes on short timings, logging at trace
// level to DATA/tillbridge.log, and waits until it is ready; opts adjust
// the sandbox and the configuration.
func startTill(t *testing.T, opts ...daemonenv.Option) *till {
	t.Helper()
	base := []daemonenv.Option{daemonenv.Lanes(2),
		daemonenv.WithSandbox(func(so *daemon.SandboxOptions) { so.Gateway = sandbox.Config{AutoClose: 30 * time.Second} }),
		daemonenv.WithConfig(func(c *daemon.Config) { c.Daemon.LogFile = filepath.Join(c.Daemon.DataDir, "tillbridge.log") }),
		daemonenv.WithRun(func(ctx context.Context, cfg *daemon.Config, o daemon.Options) error {
			cio := cmdIO{strings.NewReader(""), &testenv.Buffer{}, &testenv.Buffer{}}
			return runDaemon(ctx, cio, cfg, "trace", nil, o.OnReady)
		})}
	e := daemonenv.Start(t, append(base, opts...)...)
	return &till{Env: e, key: e.Config.Listen[0].SharedKey}
}

// cli runs a tillbridge command against this till (--data DIR added).
func (tl *till) cli(args ...string) (int, string, string) {
	tl.T.Helper()
	return run(tl.T, append(args, "--data", tl.Dir)...)
}

// sale runs one SALE to its final answer.
func (tl *till) sale(lane, ref, code string) *ecrproto.Message {
	tl.T.Helper()
	return tl.Sale(lane, ref, code, &ecrproto.ClientOptions{Key: tl.key})
}

// statusUntil runs `status --json` until cond holds (bounded).
func (tl *till) statusUntil(what string, cond func(control.StatusSnapshot) bool) control.StatusSnapshot {
	tl.T.Helper()
	var s control.StatusSnapshot
	testenv.WaitFor(tl.T, diagBound, func() bool {
		_, out, errOut := tl.cli("status", "--json")
		s = control.StatusSnapshot{}
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			tl.T.Fatalf("status --json: %v\n%s%s", err, out, errOut)
		}
		return cond(s)
	}, "status --json showing "+what)
	return s
}

func TestStatusCommand(t *testing.T) {
	tl := startTill(t)
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
	tl.Stop()
	code, out, errOut = tl.cli("status")
	if code != exitNoDaemon || !strings.Contains(errOut, "tillbridge daemon is not running (no control socket at "+
		filepath.Join(tl.Dir, "control.sock")+")") || !strings.Contains(errOut, "tillbridge start") ||
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
	fs := newCtlFlagSet("x", "", cmdIO{stderr: &testenv.Buffer{}}, &f)
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
	testenv.WriteFile(t, cfgFile, 0o600, validConfig(dir)+"\n[control]\nsocket = \"ctl/c.sock\"\n")
	var g ctlFlags
	gs := newCtlFlagSet("x", "", cmdIO{stderr: &testenv.Buffer{}}, &g)
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
		done <- runMain(ctx, cmdIO{strings.NewReader(""), &testenv.Buffer{}, &testenv.Buffer{}}, []string{"run", "--sandbox",
			"--data", dir, "--ecr-listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0", "--lanes", "1", "--console-listen", "off"})
	}()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("run exited %d", code)
		}
	}()
	var code int
	var out string
	testenv.WaitFor(t, diagBound, func() bool {
		code, out, _ = run(t, "status", "--json", "--data", dir)
		return code == exitOK // 3 until it listens, 4 while it starts
	}, "status --json exiting 0")
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
