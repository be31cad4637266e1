package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/kardianos/service"
)

// ServiceStopWait is how long a service stop waits for the daemon's run
// function to return after its context is cancelled. The service manager
// expects a stop within a few seconds; the journal is crash-safe, so a
// daemon still busy after this is abandoned rather than waited for.
const ServiceStopWait = 5 * time.Second

// StopTimeoutError: run did not return within ServiceStopWait of the stop.
type StopTimeoutError struct{ Waited time.Duration }

// Error says how long the stop waited.
func (e *StopTimeoutError) Error() string {
	return fmt.Sprintf("daemon did not stop within %s of the stop request; exiting anyway", e.Waited)
}

// UnexpectedExitError: run returned although nobody asked it to stop. The
// process then exits with an error, so the service manager restarts it.
type UnexpectedExitError struct{ Err error }

// Error says the daemon stopped by itself, and why.
func (e *UnexpectedExitError) Error() string {
	if e.Err == nil {
		return "daemon stopped by itself without an error"
	}
	return "daemon stopped by itself: " + e.Err.Error()
}

// Unwrap returns run's error (nil when it returned none).
func (e *UnexpectedExitError) Unwrap() error { return e.Err }

// RunService runs the daemon's run function. Under a service manager
// (systemd, the Windows SCM) it runs through kardianos/service: run starts
// in a goroutine as soon as the manager asks, and a stop cancels its
// context and waits up to ServiceStopWait. Interactively it runs directly
// until SIGINT or SIGTERM. Cancellation is not an error: RunService returns
// nil after a requested stop, and an error when run failed or returned by
// itself, so the service manager's restart policy applies.
func RunService(ctx context.Context, name string, run func(context.Context) error) error {
	if service.Interactive() {
		return runInteractive(ctx, run)
	}
	return runManaged(ctx, name, run)
}

// runInteractive runs in the foreground until a signal or ctx ends.
func runInteractive(ctx context.Context, run func(context.Context) error) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	if err == nil {
		return nil // the foreground daemon may end by itself
	}
	return err
}

// runManaged hands control to the service manager.
func runManaged(ctx context.Context, name string, run func(context.Context) error) error {
	p := newProgram(ctx, run, ServiceStopWait)
	s, err := service.New(p, &service.Config{Name: name, Option: service.KeyValue{"RunWait": p.wait}})
	if err != nil {
		return fmt.Errorf("service manager: %w", err)
	}
	p.onUnexpectedExit = unexpectedExitHandler(s)
	if err := s.Run(); err != nil {
		return fmt.Errorf("run as service %s: %w", name, err)
	}
	return p.result()
}

// program adapts a run function to kardianos/service's Interface.
type program struct {
	parent   context.Context
	run      func(context.Context) error
	stopWait time.Duration
	// onUnexpectedExit is called when run returns without a stop request
	// (Windows: log to the Event Log and exit, so the SCM's recovery
	// actions restart the service). Nil: RunService returns the error.
	onUnexpectedExit func(error)

	done chan struct{}

	mu       sync.Mutex
	cancel   context.CancelFunc
	err      error
	stopping bool
	timedOut bool
	started  bool
	// selfExit: run returned before anyone asked it to stop.
	selfExit bool
}

func newProgram(ctx context.Context, run func(context.Context) error, stopWait time.Duration) *program {
	return &program{parent: ctx, run: run, stopWait: stopWait, done: make(chan struct{})}
}

// Start launches run and returns at once, as the service manager requires.
func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(p.parent)
	p.mu.Lock()
	p.cancel, p.started = cancel, true
	p.mu.Unlock()
	go func() {
		err := p.run(ctx)
		p.mu.Lock()
		p.err = err
		requested := p.stopping || p.parent.Err() != nil
		p.selfExit = !requested
		p.mu.Unlock()
		close(p.done)
		if !requested && p.onUnexpectedExit != nil {
			p.onUnexpectedExit(&UnexpectedExitError{Err: err})
		}
	}()
	return nil
}

// Stop cancels run and waits for it, at most stopWait.
func (p *program) Stop(service.Service) error {
	p.mu.Lock()
	p.stopping = true
	cancel, started := p.cancel, p.started
	p.mu.Unlock()
	if !started {
		return nil
	}
	cancel()
	t := time.NewTimer(p.stopWait)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.mu.Lock()
		p.timedOut = true
		p.mu.Unlock()
	}
	return nil
}

// wait blocks (as kardianos/service's RunWait option, on Unix) until a
// stop signal, the end of the parent context, or run returning by itself.
func (p *program) wait() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-p.done:
	case <-p.parent.Done():
	}
}

// result is RunService's error after the manager let go.
func (p *program) result() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.timedOut:
		return &StopTimeoutError{Waited: p.stopWait}
	case p.selfExit:
		return &UnexpectedExitError{Err: p.err}
	case p.err != nil && !errors.Is(p.err, context.Canceled):
		return p.err
	}
	return nil
}

// Interactive reports whether this process runs in a terminal rather than
// under a service manager. The daemon uses it to choose its outputs: a
// service logs to Paths.LogFile and the system log, a foreground run to
// the console.
func Interactive() bool { return service.Interactive() }
