package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// ctlBound bounds every wait of the control tests; no test asserts on a
// duration.
const ctlBound = 30 * time.Second

// ctlEnv is a daemon on an in-process sandbox with its control API.
type ctlEnv struct {
	t    testing.TB
	dir  string
	sb   *daemon.Sandbox
	cfg  *daemon.Config
	d    *daemon.Daemon
	ecr  string
	cl   *control.Client
	stop context.CancelFunc
	done chan error
}

// ctlSetup adjusts the sandbox options, the daemon's config (after the
// sandbox built it) and the daemon's options.
type ctlSetup struct {
	sandbox func(*daemon.SandboxOptions)
	config  func(*daemon.Config)
	options func(*daemon.Options)
}

// ctlPayment are short lifecycle timings.
func ctlPayment() daemon.PaymentConfig {
	p := daemon.NewConfig().Payment
	p.FirstQuery, p.QueryInterval, p.PayDeadline = 80*time.Millisecond, 80*time.Millisecond, 1500*time.Millisecond
	p.BackoffMin, p.BackoffMax, p.CancelWait = 50*time.Millisecond, 200*time.Millisecond, 10*time.Second
	p.ScanTimeout = 20 * time.Second
	return p
}

// startCtlEnv starts the sandbox and the daemon, and waits until ready.
func startCtlEnv(t testing.TB, setup ctlSetup) *ctlEnv {
	t.Helper()
	dir := t.TempDir()
	pay := ctlPayment()
	so := daemon.SandboxOptions{DataDir: dir, ECRListen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0",
		Lanes: 2, Payment: &pay, GatewayTimeout: 500 * time.Millisecond,
		Gateway: sandbox.Config{ConfirmDelay: 300 * time.Millisecond, AutoClose: 30 * time.Second}}
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
	if setup.config != nil {
		setup.config(sb.Config)
	}
	ready := make(chan []net.Addr, 1)
	opts := daemon.Options{Version: "test-1.0", OnReady: func(a []net.Addr) { ready <- a }}
	if setup.options != nil {
		setup.options(&opts)
	}
	d, err := daemon.New(sb.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	e := &ctlEnv{t: t, dir: dir, sb: sb, cfg: sb.Config, d: d, stop: stop, done: make(chan error, 1),
		cl: control.NewClient(daemon.ControlAddress(sb.Config))}
	go func() { e.done <- d.Run(ctx) }()
	select {
	case a := <-ready:
		e.ecr = a[0].String()
	case err := <-e.done:
		t.Fatalf("daemon stopped during start-up: %v", err)
	case <-time.After(ctlBound):
		t.Fatal("daemon not ready")
	}
	t.Cleanup(e.close)
	return e
}

// close stops the daemon (once).
func (e *ctlEnv) close() {
	if e.stop == nil {
		return
	}
	e.stop()
	e.stop = nil
	e.cl.Close()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("daemon Run: %v", err)
		}
	case <-time.After(ctlBound):
		e.t.Error("daemon did not stop")
	}
}

// ctx is a bounded context for one call.
func (e *ctlEnv) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), ctlBound)
	e.t.Cleanup(cancel)
	return ctx
}

// sale runs one SALE over the ECR protocol to its final answer.
func (e *ctlEnv) sale(lane, ref, code string, opts *ecrproto.ClientOptions) *ecrproto.Message {
	e.t.Helper()
	c, err := ecrproto.Dial(e.ctx(), "tcp", e.ecr, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Do(e.ctx(), &ecrproto.Message{Type: ecrproto.TypeSale, Lane: lane, Ref: ref,
		Amount: ecrproto.Int(1250), Currency: "HKD", Barcode: code})
	if err != nil {
		e.t.Fatalf("sale %s: %v", ref, err)
	}
	return res
}

// statusUntil polls the control API until cond holds (bounded).
func (e *ctlEnv) statusUntil(what string, cond func(control.StatusSnapshot) bool) control.StatusSnapshot {
	e.t.Helper()
	deadline := time.Now().Add(ctlBound)
	for {
		s, err := e.cl.Status(e.ctx())
		if err != nil {
			e.t.Fatal(err)
		}
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("status never showed %s; last: %+v", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sandboxCode is an 18-digit sandbox buyer code ending in scenario sc.
func sandboxCode(sc, n int) string { return fmt.Sprintf("28%014d%02d", n, sc) }

// ctlCode returns err's control error code ("" when it is none).
func ctlCode(err error) string {
	var ce *control.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}
