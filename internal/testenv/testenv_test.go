package testenv_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/internal/testenv"
)

// TestMain adds the roles the harness tests start.
func TestMain(m *testing.M) {
	testenv.Main(m, map[string]func() int{
		"hold": func() int { // prints, then waits to be killed
			fmt.Println("noise")
			fmt.Println("ready", os.Getenv("TESTENV_WORD"))
			select {}
		},
		"exit3": func() int { fmt.Println("bye"); return 3 },
	})
}

// TestChildKilled: a child in a role gets its environment, its output is
// read line by line, and Kill ends it by SIGKILL, which Killed reports.
func TestChildKilled(t *testing.T) {
	t.Parallel()
	p := testenv.Start(t, testenv.Child(context.Background(), "hold", "TESTENV_WORD=kiwi"), "hold.log")
	if l := p.WaitLine(testenv.Bound, "the ready line", func(l string) bool { return strings.HasPrefix(l, "ready") }); l != "ready kiwi" {
		t.Fatalf("ready line %q, want %q", l, "ready kiwi")
	}
	if err := p.Kill(); !testenv.Killed(err) {
		t.Fatalf("Kill: %v, want the end by SIGKILL", err)
	}
}

// TestChildExitCode: a role's return value is the child's exit code, and
// an exit by itself is not a kill.
func TestChildExitCode(t *testing.T) {
	t.Parallel()
	p := testenv.Start(t, testenv.Child(context.Background(), "exit3"), "exit3.log")
	err := p.Wait(testenv.Bound)
	if code := p.Cmd.ProcessState.ExitCode(); code != 3 || testenv.Killed(err) {
		t.Fatalf("exit code %d (%v), want 3 and not killed", code, err)
	}
	if testenv.Killed(nil) {
		t.Error("Killed(nil)")
	}
}

// TestWaitLineAfterExit: waiting for a line the child never printed
// fails the test naming what was awaited, once the child has exited.
func TestWaitLineAfterExit(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	p := testenv.Start(rec, testenv.Child(context.Background(), "exit3"), "exit3.log")
	inGoroutine(func() {
		p.WaitLine(testenv.Bound, "a line saying hello", func(l string) bool { return l == "hello" })
	})
	if !strings.Contains(rec.msg, "before printing a line saying hello") {
		t.Fatalf("failure %q does not name what was awaited", rec.msg)
	}
}

// TestWaitFor: WaitFor returns once the condition holds, and otherwise
// fails naming what was awaited.
func TestWaitFor(t *testing.T) {
	t.Parallel()
	n := 0
	testenv.WaitFor(t, testenv.Bound, func() bool { n++; return n == 3 }, "the third call")
	if n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
	rec := &recorder{TB: t}
	inGoroutine(func() { testenv.WaitFor(rec, 50*time.Millisecond, func() bool { return false }, "pigs flying") })
	if !strings.Contains(rec.msg, "pigs flying") {
		t.Fatalf("failure %q does not name what was awaited", rec.msg)
	}
}

// recorder is a testing.TB whose Fatal records the message and ends the
// calling goroutine, as testing's does.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// inGoroutine runs f on its own goroutine (where a recorder's Fatalf may
// end it) and waits for it.
func inGoroutine(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}
