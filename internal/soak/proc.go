package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// Timings are the daemon's lifecycle timings and the sandbox's simulated
// buyer delays, scaled down so a soak covers many lifecycles; they become
// `tillbridge run --sandbox` flags.
type Timings struct {
	FirstQuery, QueryInterval, PayDeadline time.Duration
	BackoffMin, BackoffMax, CancelWait     time.Duration
	GatewayTimeout                         time.Duration
	ConfirmDelay, RejectDelay              time.Duration
	SlowPay, AutoClose                     time.Duration
}

// DefaultTimings are the soak's timings: a buyer confirms within the pay
// deadline, code 35's answer outlives the gateway timeout, and an unpaid
// trade outlives the deadline (so the daemon, not auto-close, closes it).
func DefaultTimings() Timings {
	return Timings{FirstQuery: 150 * time.Millisecond, QueryInterval: 150 * time.Millisecond,
		PayDeadline: 3 * time.Second, BackoffMin: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond,
		CancelWait: 3 * time.Second, GatewayTimeout: time.Second, ConfirmDelay: 800 * time.Millisecond,
		RejectDelay: 500 * time.Millisecond, SlowPay: 1500 * time.Millisecond, AutoClose: 30 * time.Second}
}

// ProductionTimings are the daemon's defaults (the seed's figures) and
// the sandbox's default buyer delays.
func ProductionTimings() Timings {
	return Timings{FirstQuery: daemon.DefaultFirstQuery, QueryInterval: daemon.DefaultQueryInterval,
		PayDeadline: daemon.DefaultPayDeadline, BackoffMin: daemon.DefaultBackoffMin, BackoffMax: daemon.DefaultBackoffMax,
		CancelWait: daemon.DefaultCancelWait, GatewayTimeout: daemon.DefaultGatewayTime, ConfirmDelay: 8 * time.Second,
		RejectDelay: 5 * time.Second, SlowPay: 20 * time.Second, AutoClose: 3 * time.Minute}
}

func (t Timings) args() []string {
	d := func(v time.Duration) string { return v.String() }
	return []string{"--first-query", d(t.FirstQuery), "--query-interval", d(t.QueryInterval),
		"--pay-deadline", d(t.PayDeadline), "--backoff-min", d(t.BackoffMin), "--backoff-max", d(t.BackoffMax),
		"--cancel-wait", d(t.CancelWait), "--gateway-timeout", d(t.GatewayTimeout),
		"--sandbox-confirm-delay", d(t.ConfirmDelay), "--sandbox-reject-delay", d(t.RejectDelay),
		"--sandbox-slow-pay", d(t.SlowPay), "--sandbox-auto-close", d(t.AutoClose)}
}

// ProcConfig describes a `tillbridge run --sandbox` subprocess.
type ProcConfig struct {
	// Bin is the tillbridge binary.
	Bin string
	// Data is the data directory (kept across restarts).
	Data string
	// Lanes is the number of lanes.
	Lanes int
	// Timings are passed as flags.
	Timings Timings
	// LogLevel is the daemon's log level (default warn).
	LogLevel string
}

// ProcError reports a daemon subprocess that failed to start or stop.
type ProcError struct {
	// Op is what was being done: start, ready, kill, stop.
	Op string
	// Log is the tail of the daemon's console output.
	Log string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *ProcError) Error() string {
	s := fmt.Sprintf("daemon %s: %v", e.Op, e.Err)
	if e.Log != "" {
		s += "\n--- daemon output (tail) ---\n" + e.Log
	}
	return s
}

// Unwrap returns the cause.
func (e *ProcError) Unwrap() error { return e.Err }

// Proc is a daemon subprocess on fixed loopback ports, so that it can be
// SIGKILLed and restarted on the same data and addresses.
type Proc struct {
	cfg        ProcConfig
	ecrAddr    string
	sandboxURL string
	outPath    string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// readyBound bounds the wait for a started daemon to become ready.
const readyBound = 30 * time.Second

// StartProc picks two free loopback ports and starts the daemon on them.
func StartProc(ctx context.Context, cfg ProcConfig) (*Proc, Startup, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, Startup{}, &ProcError{Op: "start", Err: err}
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "warn"
	}
	p := &Proc{cfg: cfg, ecrAddr: ports[0], sandboxURL: "http://" + ports[1],
		outPath: filepath.Join(cfg.Data, "soak-daemon.out")}
	st, err := p.Start(ctx)
	return p, st, err
}

// ECRAddr is the daemon's ECR TCP address.
func (p *Proc) ECRAddr() string { return p.ecrAddr }

// SandboxURL is the base URL of the in-process sandbox gateway.
func (p *Proc) SandboxURL() string { return p.sandboxURL }

// PID is the running daemon's process id, or 0.
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the daemon process is alive.
func (p *Proc) Running() bool {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// Startup is how long a start took: from spawn until the ECR port
// accepted a connection, and until the daemon answered PING "ready".
type Startup struct {
	Listening, Ready time.Duration
}

// Start spawns the daemon and waits until it is ready.
func (p *Proc) Start(ctx context.Context) (Startup, error) {
	out, err := os.OpenFile(p.outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return Startup{}, &ProcError{Op: "start", Err: err}
	}
	defer out.Close()
	args := []string{"run", "--sandbox", "--data", p.cfg.Data, "--ecr-listen", p.ecrAddr,
		"--sandbox-listen", p.sandboxURL[len("http://"):], "--lanes", strconv.Itoa(p.cfg.Lanes),
		"--log-level", p.cfg.LogLevel, "--console-listen", "off"}
	cmd := exec.Command(p.cfg.Bin, append(args, p.cfg.Timings.args()...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return Startup{}, &ProcError{Op: "start", Err: err}
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	st, err := p.waitReady(ctx, t0, exited)
	if err != nil {
		p.signal(syscall.SIGKILL)
		<-exited
		return st, &ProcError{Op: "ready", Log: p.tail(), Err: err}
	}
	return st, nil
}

// waitReady polls the ECR port until it accepts, then PINGs until ready.
func (p *Proc) waitReady(ctx context.Context, t0 time.Time, exited <-chan struct{}) (Startup, error) {
	ctx, cancel := context.WithTimeout(ctx, readyBound)
	defer cancel()
	var st Startup
	var d net.Dialer
	for st.Listening == 0 {
		c, err := d.DialContext(ctx, "tcp", p.ecrAddr)
		if err == nil {
			st.Listening = time.Since(t0)
			c.Close()
			break
		}
		if err := pause(ctx, exited, time.Millisecond); err != nil {
			return st, err
		}
	}
	for {
		if ready(ctx, p.ecrAddr) {
			st.Ready = time.Since(t0)
			return st, nil
		}
		if err := pause(ctx, exited, 2*time.Millisecond); err != nil {
			return st, err
		}
	}
}

// pause waits d, failing when ctx ends or the process exits.
func pause(ctx context.Context, exited <-chan struct{}, d time.Duration) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("not ready: %w", ctx.Err())
	case <-exited:
		return errors.New("exited during start-up")
	case <-time.After(d):
		return nil
	}
}

// ready reports whether the daemon at addr answers PING with "ready".
func ready(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := ecrproto.Dial(ctx, "tcp", addr, nil)
	if err != nil {
		return false
	}
	defer c.Close()
	r, err := c.Ping(ctx)
	return err == nil && r.Message == "ready"
}

// Kill SIGKILLs the daemon and waits until it is gone.
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL)
	p.waitExit()
}

// Stop asks the daemon to stop (SIGTERM) and waits up to bound, then
// kills it.
func (p *Proc) Stop(bound time.Duration) error {
	p.signal(syscall.SIGTERM)
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if exited == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	case <-time.After(bound):
		p.Kill()
		return &ProcError{Op: "stop", Log: p.tail(), Err: fmt.Errorf("still running %v after SIGTERM; killed", bound)}
	}
}

func (p *Proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

func (p *Proc) waitExit() {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if exited != nil {
		<-exited
	}
}

// tail returns the last lines of the daemon's console output.
func (p *Proc) tail() string {
	b, err := os.ReadFile(p.outPath)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// freePorts returns n distinct free loopback addresses.
func freePorts(n int) ([]string, error) {
	var out []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	return out, nil
}
