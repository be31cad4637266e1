//go:build !windows

package datalock

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// noFollow refuses a lock file that is a symbolic link (which would have
// the daemon truncate and chmod whatever it points to).
const noFollow = syscall.O_NOFOLLOW

// lockFile takes an exclusive, non-blocking flock on f. It reports held
// when another open file (another process, or another Lock) has it.
func lockFile(f *os.File) (held bool, err error) {
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

// unlockFile releases the flock (closing f would too).
func unlockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// chmod sets f's mode whatever the umask was at creation.
func chmod(f *os.File, mode fs.FileMode) error { return f.Chmod(mode) }
