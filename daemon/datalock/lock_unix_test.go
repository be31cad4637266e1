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
