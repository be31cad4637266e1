package installer

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestProgramStopCancelsAndWaits(t *testing.T) {
	finished := make(chan struct{})
	p := newProgram(context.Background(), func(ctx context.Context) error {
		<-ctx.Done()
		close(finished)
		return ctx.Err()
	}, time.Minute)
	if err := p.Start(nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Stop returned before run did")
	}
	if err := p.result(); err != nil {
		t.Fatalf("requested stop: %v, want nil (cancellation is not an error)", err)
	}
}

func TestProgramStopGivesUpOnAStuckRun(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p := newProgram(context.Background(), func(context.Context) error { <-release; return nil }, 10*time.Millisecond)
	p.Start(nil)
	if err := p.Stop(nil); err != nil {
		t.Fatalf("Stop must not fail the service manager: %v", err)
	}
	var te *StopTimeoutError
	if err := p.result(); !errors.As(err, &te) || te.Waited != 10*time.Millisecond {
		t.Fatalf("stuck run: %v, want *StopTimeoutError", err)
	}
}

func TestProgramRunFailingByItself(t *testing.T) {
	boom := errors.New("journal unreadable")
	p := newProgram(context.Background(), func(context.Context) error { return boom }, time.Minute)
	reported := make(chan error, 1)
	p.onUnexpectedExit = func(err error) { reported <- err }
	p.Start(nil)
	p.wait() // returns because run returned
	var ue *UnexpectedExitError
	if err := <-reported; !errors.As(err, &ue) || !errors.Is(err, boom) {
		t.Fatalf("unexpected-exit hook got %v", err)
	}
	p.Stop(nil) // the service manager stops after wait returns
	if err := p.result(); !errors.As(err, &ue) || !errors.Is(err, boom) {
		t.Fatalf("result %v, want *UnexpectedExitError wrapping the run error", err)
	}
}

func TestProgramRunEndingCleanlyByItselfIsStillAnError(t *testing.T) {
	p := newProgram(context.Background(), func(context.Context) error { return nil }, time.Minute)
	p.Start(nil)
	p.wait()
	p.Stop(nil)
	var ue *UnexpectedExitError
	if err := p.result(); !errors.As(err, &ue) {
		t.Fatalf("result %v, want *UnexpectedExitError so that systemd restarts the daemon", err)
	}
}

func TestProgramParentCancelIsARequestedStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := newProgram(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, time.Minute)
	called := false
	p.onUnexpectedExit = func(error) { called = true }
	p.Start(nil)
	cancel()
	p.wait()
	p.Stop(nil)
	if err := p.result(); err != nil || called {
		t.Fatalf("parent cancel: result %v, unexpected-exit hook called %v", err, called)
	}
}

func TestRunInteractive(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := runInteractive(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }); err != nil {
		t.Fatalf("cancelled foreground run: %v", err)
	}
	boom := errors.New("bad config")
	if err := runInteractive(context.Background(), func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing foreground run: %v", err)
	}
}
