//go:build !windows

package datalock_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tillbridge/tillbridge/daemon/datalock"
)

// TestLockFileMode: the lock file is 0600 whatever the umask.
func TestLockFileMode(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0)
	l, err := datalock.Acquire(dir)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	fi, err := os.Stat(filepath.Join(dir, datalock.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %04o, want 0600", fi.Mode().Perm())
	}
}

// TestLockFileSymlinkRefused: a lock file that is a symbolic link is not
// followed (its target is neither truncated nor chmodded).
func TestLockFileSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, datalock.LockFile)); err != nil {
		t.Fatal(err)
	}
	if l, err := datalock.Acquire(dir); err == nil {
		l.Release()
		t.Fatal("Acquire followed a symlinked lock file")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("symlink target changed: %q", b)
	}
}
