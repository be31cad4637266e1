package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/daemon/datalock"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// exitDataInUse is `tillbridge run`'s exit code when another daemon holds
// the data directory (docs/operations.md, Exit codes).
const exitDataInUse = 5

// TestSecondDaemonOnSameDataDir runs the real binary twice on one data
// directory: the second exits at once with exit code 5 and an error naming
// the first one's pid, before it opens the journal, and leaves the first
// one's journal and sandbox state untouched while the first goes on
// serving. The journal files and the lock file are 0600 after the sale.
// After the first is killed with SIGKILL (no clean release), a new
// daemon starts on the same directory: the OS released the lock.
func TestSecondDaemonOnSameDataDir(t *testing.T) {
	t.Parallel() // own data dir and loopback ports; waits on timers, not the CPU
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	p1 := startProc(t, bin, crashArgs(data), "first.log")
	if res := saleOn(t, p1, "1", "D1", code(0, 1)); res.Status != ecrproto.StatusApproved {
		t.Fatalf("first daemon's sale: %s %s", res.Status, res.Message)
	}
	time.Sleep(300 * time.Millisecond) // let the receipt and journal settle
	for _, name := range []string{daemon.JournalFile, daemon.JournalFile + "-wal", daemon.JournalFile + "-shm", datalock.LockFile} {
		if fi, err := os.Stat(filepath.Join(data, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("after a sale, %s: %v, want mode 0600", name, fileMode(fi, err))
		}
	}
	before := snapshot(t, data)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, bin, crashArgs(data)...)
	out, err := second.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitDataInUse {
		t.Fatalf("second daemon on the same data dir: %v (want exit code %d)\n%s", err, exitDataInUse, out)
	}
	pid := p1.Cmd.Process.Pid
	for _, want := range []string{fmt.Sprintf("tillbridge pid %d", pid), "data directory " + data + " is in use"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("second daemon's error does not say %q:\n%s", want, out)
		}
	}
	if after := snapshot(t, data); after != before {
		t.Errorf("the second daemon changed the first one's files:\nbefore %s\nafter  %s", before, after)
	}
	if res := p1.statusUntilFinal("1", "D1"); res.Status != ecrproto.StatusApproved {
		t.Errorf("first daemon after the second's attempt: STATUS %s", res.Status)
	}

	_ = p1.Kill()
	p3 := startProc(t, bin, crashArgs(data), "third.log")
	if res := p3.statusUntilFinal("1", "D1"); res.Status != ecrproto.StatusApproved {
		t.Errorf("after SIGKILL and restart: STATUS %s, want APPROVED", res.Status)
	}
	if h := datalock.ReadHolder(data); h.PID != p3.Cmd.Process.Pid {
		t.Errorf("lock file names %+v, want pid %d", h, p3.Cmd.Process.Pid)
	}
	p3.stop()
}

// saleOn sends one SALE to the subprocess and returns its final answer.
func saleOn(t *testing.T, p *proc, lane, ref, barcode string) *ecrproto.Message {
	t.Helper()
	c := p.client(false, nil)
	defer c.Close()
	res := doBounded(c, saleMsg(lane, ref, 1000, barcode))
	if res == nil {
		t.Fatal("SALE: connection failed")
	}
	return res
}

// snapshot describes the journal files and the sandbox state (size and
// modification time each).
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	for _, name := range []string{daemon.JournalFile, daemon.JournalFile + "-wal", daemon.JournalFile + "-shm",
		daemon.SandboxStateFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(&b, "%s:none ", name)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%d@%s ", name, fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
	}
	return b.String()
}

// fileMode describes a Stat result for an error message.
func fileMode(fi os.FileInfo, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("mode %04o", fi.Mode().Perm())
}
