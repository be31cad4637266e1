//go:build windows

package datalock

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffsetHigh places the locked byte far beyond the holder text: a
// LockFileEx range is mandatory on Windows, and the second daemon must
// still read the text at the start of the file.
const lockOffsetHigh = 0x7fffffff

// noFollow is not needed on Windows, where creating a symbolic link needs
// a privilege.
const noFollow = 0

// lockFile takes an exclusive, non-blocking LockFileEx lock on one byte of
// f. It reports held when another handle has it.
func lockFile(f *os.File) (held bool, err error) {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err = windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return true, nil
	}
	return false, err
}

// unlockFile releases the lock (closing f would too).
func unlockFile(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}

// chmod does nothing on Windows: the data folder's ACL (SYSTEM and
// Administrators only, set at install) protects the file.
func chmod(*os.File, fs.FileMode) error { return nil }
