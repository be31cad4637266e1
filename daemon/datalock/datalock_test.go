package datalock_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon/datalock"
)

// helperEnv makes the test binary a lock holder (see TestMain): it locks
// the directory named by the variable, prints "locked", and waits to be
// killed.
const helperEnv = "DATALOCK_TEST_HOLD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		l, err := datalock.Acquire(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked", l.Dir())
		select {} // hold until killed
	}
	os.Exit(m.Run())
}

// holder starts a real second process holding dir's lock.
func holder(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if !strings.HasPrefix(s, "locked") {
			t.Fatalf("holder: %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("holder did not lock in time")
	}
	return cmd
}

// TestSecondProcessRefused: a lock held by another process refuses
// Acquire with a HeldError naming that process; once it is killed with
// SIGKILL the OS has released the lock and Acquire succeeds.
func TestSecondProcessRefused(t *testing.T) {
	dir := t.TempDir()
	h := holder(t, dir)

	_, err := datalock.Acquire(dir)
	var he *datalock.HeldError
	if !errors.As(err, &he) || !errors.Is(err, datalock.ErrHeld) {
		t.Fatalf("Acquire while another process holds the lock: %v, want a *HeldError", err)
	}
	if he.Holder.PID != h.Process.Pid {
		t.Errorf("holder pid %d, want %d", he.Holder.PID, h.Process.Pid)
	}
	host, _ := os.Hostname()
	if he.Holder.Host != host || time.Since(he.Holder.Started) > time.Minute {
		t.Errorf("holder %+v: want host %s and a recent start", he.Holder, host)
	}
	if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("pid %d", h.Process.Pid)) || !strings.Contains(msg, dir) {
		t.Errorf("error does not name the directory and the holder: %s", msg)
	}

	if err := h.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = h.Wait()
	l, err := datalock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	defer l.Release()
	if got := datalock.ReadHolder(dir); got.PID != os.Getpid() {
		t.Errorf("lock file names pid %d, want this process %d", got.PID, os.Getpid())
	}
}

// TestSameProcessTwice: a second Lock in the same process is refused too
// (the daemon's tests run several daemons in one process), and Release
// frees the directory and empties the holder record.
func TestSameProcessTwice(t *testing.T) {
	dir := t.TempDir()
	l, err := datalock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := datalock.Acquire(dir); !errors.Is(err, datalock.ErrHeld) {
		t.Fatalf("second Acquire: %v, want ErrHeld", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if h := datalock.ReadHolder(dir); h.PID != 0 {
		t.Errorf("released lock still names %+v", h)
	}
	l2, err := datalock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

// TestMissingDir: a data directory that does not exist is an error, not
// ErrHeld.
func TestMissingDir(t *testing.T) {
	_, err := datalock.Acquire(filepath.Join(t.TempDir(), "nope"))
	if err == nil || errors.Is(err, datalock.ErrHeld) {
		t.Fatalf("Acquire on a missing dir: %v", err)
	}
}
