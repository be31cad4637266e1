// Package daemonenv starts a real daemon for tests: the in-process Alipay
// sandbox on a loopback port, a temp data directory, short lifecycle
// timings, the ECR listener on 127.0.0.1:0 and the control socket. It is
// the one daemon-starting helper of the daemon's and the command's tests.
//
// It imports daemon, so only tests outside the packages daemon imports
// may use it; the leaf helpers are in internal/testenv.
package daemonenv

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// Bound bounds every wait of the helpers (testenv.Bound).
const Bound = testenv.Bound

// GatewayTimeout is the tests' gateway timeout: the slow pay answer
// (scenario 35, Gateway's SlowPayDelay) outlasts it.
const GatewayTimeout = 500 * time.Millisecond

// Payment returns the shortened lifecycle timings of the tests.
func Payment() daemon.PaymentConfig {
	p := daemon.NewConfig().Payment
	p.FirstQuery, p.QueryInterval, p.PayDeadline = 80*time.Millisecond, 80*time.Millisecond, 1500*time.Millisecond
	p.BackoffMin, p.BackoffMax, p.CancelWait = 50*time.Millisecond, 200*time.Millisecond, 10*time.Second
	p.ScanTimeout = 20 * time.Second
	return p
}

// Gateway returns the sandbox's scaled-down scenario delays.
func Gateway() sandbox.Config {
	return sandbox.Config{ConfirmDelay: 300 * time.Millisecond, RejectDelay: 250 * time.Millisecond,
		SlowPayDelay: 1200 * time.Millisecond, AutoClose: 30 * time.Second}
}

// RunFunc runs a daemon on cfg until ctx ends; it must call
// opts.OnReady once it serves.
type RunFunc func(ctx context.Context, cfg *daemon.Config, opts daemon.Options) error

// Setup is what Options adjust before the daemon starts.
type Setup struct {
	Sandbox daemon.SandboxOptions // Lanes 4, Payment(), Gateway(), GatewayTimeout
	Daemon  daemon.Options        // Version "test-1.0"; OnReady is set by Start
	// Config adjust the configuration the sandbox built, in order.
	Config []func(*daemon.Config)
	// Run runs the daemon; nil is daemon.New(cfg, opts).Run(ctx).
	Run RunFunc
}

// Option adjusts a Setup.
type Option func(*Setup)

// Lanes sets the number of lanes.
func Lanes(n int) Option { return func(s *Setup) { s.Sandbox.Lanes = n } }

// WithSandbox adjusts the sandbox options.
func WithSandbox(f func(*daemon.SandboxOptions)) Option { return func(s *Setup) { f(&s.Sandbox) } }

// WithDaemon adjusts the daemon's options.
func WithDaemon(f func(*daemon.Options)) Option { return func(s *Setup) { f(&s.Daemon) } }

// WithConfig adjusts the configuration after the sandbox built it.
func WithConfig(f func(*daemon.Config)) Option {
	return func(s *Setup) { s.Config = append(s.Config, f) }
}

// WithRun runs the daemon with run instead of daemon.New(…).Run.
func WithRun(run RunFunc) Option { return func(s *Setup) { s.Run = run } }

// Env is a running daemon on an in-process sandbox.
type Env struct {
	T       testing.TB
	Dir     string          // the data directory
	Sandbox *daemon.Sandbox // the gateway simulator and its configuration
	Config  *daemon.Config  // the daemon's configuration
	Daemon  *daemon.Daemon  // nil when WithRun ran it
	ECR     string          // the first ECR listener's address
	Control *control.Client // the control API client
	stop    context.CancelFunc
	done    chan error
}

// Start starts the sandbox and the daemon on a temp data directory and
// waits until the daemon is ready; the test's cleanup stops both.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	dir := t.TempDir()
	pay := Payment()
	s := Setup{Sandbox: daemon.SandboxOptions{DataDir: dir, ECRListen: "127.0.0.1:0", SandboxListen: "127.0.0.1:0",
		Lanes: 4, Payment: &pay, GatewayTimeout: GatewayTimeout, Gateway: Gateway()},
		Daemon: daemon.Options{Version: "test-1.0"}}
	for _, o := range opts {
		o(&s)
	}
	sb, err := daemon.StartSandbox(s.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = sb.Close(ctx)
	})
	for _, f := range s.Config {
		f(sb.Config)
	}
	ready := make(chan []net.Addr, 1)
	s.Daemon.OnReady = func(a []net.Addr) { ready <- a }
	e := &Env{T: t, Dir: dir, Sandbox: sb, Config: sb.Config, done: make(chan error, 1),
		Control: control.NewClient(daemon.ControlAddress(sb.Config))}
	run := s.Run
	if run == nil {
		d, err := daemon.New(sb.Config, s.Daemon)
		if err != nil {
			t.Fatal(err)
		}
		e.Daemon = d
		run = func(ctx context.Context, _ *daemon.Config, _ daemon.Options) error { return d.Run(ctx) }
	}
	ctx, stop := context.WithCancel(context.Background())
	e.stop = stop
	go func() { e.done <- run(ctx, sb.Config, s.Daemon) }()
	select {
	case a := <-ready:
		e.ECR = a[0].String()
	case err := <-e.done:
		t.Fatalf("daemon stopped during start-up: %v", err)
	case <-time.After(Bound):
		t.Fatal("daemon not ready")
	}
	t.Cleanup(e.Stop)
	return e
}

// Stop stops the daemon and waits for it (once; later calls do nothing).
// The sandbox keeps running until the test's cleanup.
func (e *Env) Stop() {
	if e.stop == nil {
		return
	}
	e.stop()
	e.stop = nil
	e.Control.Close()
	select {
	case err := <-e.done:
		if err != nil {
			e.T.Errorf("daemon Run: %v", err)
		}
	case <-time.After(Bound):
		e.T.Error("daemon did not stop")
	}
}

// Ctx is a context bounded by Bound, cancelled at the test's end.
func (e *Env) Ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Bound)
	e.T.Cleanup(cancel)
	return ctx
}
