//go:build !windows

package queue

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestJournalFileModes: the journal, its -wal and its -shm are 0600 after a
// paid sale even under umask 0, and a journal left 0644 by an older version
// is made private when opened.
func TestJournalFileModes(t *testing.T) {
	old := syscall.Umask(0)
	h := newHarness(t)
	syscall.Umask(old)
	h.paidSale("m1", 100)
	checkModes := func(when string) {
		t.Helper()
		for _, f := range journalFiles(h.path) {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if fi.Mode().Perm() != JournalFileMode {
				t.Errorf("%s: %s has mode %04o, want %04o", when, filepath.Base(f), fi.Mode().Perm(), JournalFileMode)
			}
		}
	}
	checkModes("after a sale")

	for _, f := range journalFiles(h.path) {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h.restart()
	h.paidSale("m2", 100)
	checkModes("reopened after chmod 0644")
}
