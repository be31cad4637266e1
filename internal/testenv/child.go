package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RoleEnv names the environment variable that makes a re-executed test
// binary play a role instead of running its tests (see Main and Child).
const RoleEnv = "TILLBRIDGE_TEST_ROLE"

// Main is a test package's TestMain body: with RoleEnv set it runs that
// role and exits with its code; otherwise it runs the tests. A role reads
// its parameters from its own environment variables.
func Main(m *testing.M, roles map[string]func() int) {
	if name := os.Getenv(RoleEnv); name != "" {
		role, ok := roles[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "testenv: unknown role %q\n", name)
			os.Exit(2)
		}
		os.Exit(role())
	}
	os.Exit(m.Run())
}

// Child returns a command that re-executes this test binary in role (run
// no tests), with env ("KEY=value") added to this process's environment;
// the end of ctx kills it.
func Child(ctx context.Context, role string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), RoleEnv+"="+role), env...)
	return cmd
}

// Killed reports whether err, from Wait or Run, is a process's end by
// SIGKILL (a kill -9 from the test or from the process itself).
func Killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// Proc is a started child process. Its standard output is read line by
// line (WaitLine); its standard error goes to a log file in a temp dir,
// named in failures.
type Proc struct {
	t      testing.TB
	Cmd    *exec.Cmd
	Log    string // the file holding its standard error
	mu     sync.Mutex
	lines  []string      // every output line so far
	next   int           // the first line WaitLine has not consumed
	more   chan struct{} // signalled after each new line
	eof    bool          // the output ended
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

// Start starts cmd as a Proc, its standard error logged to logName in a
// temp dir. The test's cleanup SIGKILLs it if it still runs.
func Start(t testing.TB, cmd *exec.Cmd, logName string) *Proc {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), logName))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	p := &Proc{t: t, Cmd: cmd, Log: logf.Name(), more: make(chan struct{}, 1), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.add(sc.Text(), false)
		}
		p.add("", true)
	}()
	go func() {
		p.err = cmd.Wait() // after the reader reached EOF, as Wait requires
		logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() { _ = p.Kill() })
	return p
}

// add records a line, or the end of the output; the reader never blocks
// on the test, so a chatty child is never stalled on its pipe.
func (p *Proc) add(line string, eof bool) {
	p.mu.Lock()
	if eof {
		p.eof = true
	} else {
		p.lines = append(p.lines, line)
	}
	p.mu.Unlock()
	select {
	case p.more <- struct{}{}:
	default:
	}
}

// nextLine returns the next unconsumed line, if any, and whether the
// output has ended.
func (p *Proc) nextLine() (line string, ok, eof bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next < len(p.lines) {
		p.next++
		return p.lines[p.next-1], true, false
	}
	return "", false, p.eof
}

// WaitLine reads output lines until match accepts one and returns that
// line; it fails the test, naming what, if the process exits first or no
// line matched within timeout. Lines read are consumed.
func (p *Proc) WaitLine(timeout time.Duration, what string, match func(line string) bool) string {
	p.t.Helper()
	bound := time.After(timeout)
	for {
		l, ok, eof := p.nextLine()
		switch {
		case ok && match(l):
			return l
		case ok:
			continue
		case eof:
			<-p.exited
			p.t.Fatalf("%s: the process exited (%v) before printing %s (log %s)", p.Cmd.Path, p.err, what, p.Log)
		}
		select {
		case <-p.more:
		case <-bound:
			p.t.Fatalf("%s: no %s within %s (log %s)", p.Cmd.Path, what, timeout, p.Log)
		}
	}
}

// Exited is closed when the process has ended.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Wait waits up to timeout for the process to end by itself and returns
// its Wait error; it fails the test if it does not end.
func (p *Proc) Wait(timeout time.Duration) error {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %s (log %s)", p.Cmd.Path, timeout, p.Log)
		return nil
	}
}

// Signal sends sig (SIGTERM for a graceful stop) without waiting.
func (p *Proc) Signal(sig os.Signal) error { return p.Cmd.Process.Signal(sig) }

// Kill SIGKILLs the process — no clean-up runs in it — and waits until it
// has ended; it returns Wait's error (nil if it had already exited
// cleanly).
func (p *Proc) Kill() error {
	_ = p.Cmd.Process.Kill()
	<-p.exited
	return p.err
}
