package datalock_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon/datalock"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// dirEnv names the directory the "hold" role locks (see TestMain).
const dirEnv = "DATALOCK_TEST_DIR"

// TestMain adds the "hold" role: the test binary locks the directory
// named by dirEnv, prints "locked", and waits to be killed.
func TestMain(m *testing.M) {
	testenv.Main(m, map[string]func() int{"hold": func() int {
		l, err := datalock.Acquire(os.Getenv(dirEnv))
		if err != nil {
			fmt.Println("error:", err)
			return 3
		}
		fmt.Println("locked", l.Dir())
		select {} // hold until killed
	}})
}

// holder starts a real second process holding dir's lock.
func holder(t *testing.T, dir string) *testenv.Proc {
	t.Helper()
	h := testenv.Start(t, testenv.Child(context.Background(), "hold", dirEnv+"="+dir), "holder.log")
	if l := h.WaitLine(testenv.Bound, "its first line", func(string) bool { return true }); !strings.HasPrefix(l, "locked") {
		t.Fatalf("holder: %q", l)
	}
	return h
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
	if he.Holder.PID != h.Cmd.Process.Pid {
		t.Errorf("holder pid %d, want %d", he.Holder.PID, h.Cmd.Process.Pid)
	}
	host, _ := os.Hostname()
	if he.Holder.Host != host || time.Since(he.Holder.Started) > time.Minute {
		t.Errorf("holder %+v: want host %s and a recent start", he.Holder, host)
	}
	if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("pid %d", h.Cmd.Process.Pid)) || !strings.Contains(msg, dir) {
		t.Errorf("error does not name the directory and the holder: %s", msg)
	}

	if err := h.Kill(); err == nil {
		t.Fatal("the holder exited by itself; want it killed")
	}
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
