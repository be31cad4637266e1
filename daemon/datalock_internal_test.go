package daemon

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon/datalock"
)

// TestRunLocksDataDir: Run takes the data directory's lock itself (no
// Options.DataLock) before anything else: a second daemon on the same
// directory fails at once with a *datalock.HeldError naming this process,
// without opening a listener or the journal, and the directory is free
// again once the first has stopped. A lock handed in for another
// directory is refused.
func TestRunLocksDataDir(t *testing.T) {
	ready := make(chan []net.Addr, 1)
	d1, stop1, done1 := startSandboxDaemon(t, Options{OnReady: func(a []net.Addr) { ready <- a }})
	select {
	case <-ready:
	case err := <-done1:
		t.Fatalf("first Run: %v", err)
	case <-time.After(lifecycleBound):
		t.Fatal("first daemon not ready")
	}
	dir := d1.cfg.Daemon.DataDir
	journal := filepath.Join(dir, JournalFile)
	before, err := os.Stat(journal)
	if err != nil {
		t.Fatal(err)
	}

	cfg2 := *d1.cfg
	cfg2.Listen = []ListenConfig{{Network: "tcp", Address: "127.0.0.1:0"}}
	d2, err := New(&cfg2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lifecycleBound)
	defer cancel()
	err = d2.Run(ctx)
	var he *datalock.HeldError
	if !errors.As(err, &he) || he.Holder.PID != os.Getpid() || he.Dir != dir {
		t.Fatalf("second Run on the same data dir: %v, want a HeldError naming pid %d", err, os.Getpid())
	}
	if len(d2.listeners) != 0 || d2.eng != nil {
		t.Error("the refused daemon opened listeners or the journal")
	}
	if after, err := os.Stat(journal); err != nil || !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Errorf("journal changed by the refused daemon: %v", err)
	}
	if !d1.Ready() {
		t.Error("first daemon no longer ready")
	}

	stop1()
	if err := <-done1; err != nil {
		t.Fatalf("first Run: %v", err)
	}
	l, err := datalock.Acquire(dir)
	if err != nil {
		t.Fatalf("data dir still locked after Run returned: %v", err)
	}
	defer l.Release()
	if h := datalock.ReadHolder(dir); h.PID != os.Getpid() {
		t.Errorf("holder %+v", h)
	}

	other, err := New(&cfg2, Options{DataLock: l})
	if err != nil {
		t.Fatal(err)
	}
	other.cfg.Daemon.DataDir = filepath.Join(t.TempDir(), "elsewhere-"+strconv.Itoa(os.Getpid()))
	if err := other.Run(ctx); err == nil || errors.Is(err, datalock.ErrHeld) {
		t.Errorf("Run with a lock on another directory: %v", err)
	}
}
