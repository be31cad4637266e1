// Package datalock takes the exclusive lock on a tillbridge data directory,
// so that only one daemon at a time runs recovery over, and schedules, the
// journal kept there.
//
// The lock is an OS lock on the file LockFile inside the directory: flock
// on Linux and other Unix systems, LockFileEx on Windows. The operating
// system releases it when the holder exits, however it exits (kill -9, a
// crash, a power cut), so a stale lock file never blocks a restart. After
// locking, the holder writes its process id, start time and host name into
// the file, so that a second daemon refused the lock can name the holder.
//
// The lock file is never removed: removing a lock file while another
// process has it open lets two processes lock two different files of the
// same name.
package datalock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockFile is the lock file's name inside the data directory.
const LockFile = "tillbridge.lock"

// fileMode is the lock file's permissions, set whatever the umask.
const fileMode = 0o600

// ErrHeld is wrapped by every *HeldError: the data directory is locked by
// another process (or another Lock of this one).
var ErrHeld = errors.New("data directory is in use by another tillbridge daemon")

// Holder is what the holder of a lock wrote into the lock file. Fields it
// did not write, or that could not be read, are zero.
type Holder struct {
	PID     int
	Started time.Time
	Host    string
}

// String describes the holder for an error message.
func (h Holder) String() string {
	if h.PID == 0 {
		return "another tillbridge process (its pid is not recorded)"
	}
	s := "tillbridge pid " + strconv.Itoa(h.PID)
	if h.Host != "" {
		s += " on host " + h.Host
	}
	if !h.Started.IsZero() {
		s += ", started " + h.Started.UTC().Format(time.RFC3339)
	}
	return s
}

// HeldError: Acquire found the data directory locked. Callers tell it
// apart with errors.Is(err, ErrHeld) or errors.As.
type HeldError struct {
	// Dir is the data directory, File its lock file.
	Dir, File string
	// Holder is read from the lock file (zero fields when unknown).
	Holder Holder
}

// Error names the directory, the holder and what to do.
func (e *HeldError) Error() string {
	return fmt.Sprintf("data directory %s is in use by %s (lock file %s); only one daemon may run on a data directory: "+
		"stop the other one first (tillbridge stop, or end that process), or give this one another --data",
		e.Dir, e.Holder, e.File)
}

// Unwrap returns ErrHeld.
func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is a held lock on a data directory. Release it with Release; the
// operating system releases it when the process ends.
type Lock struct {
	dir string
	f   *os.File
}

// Dir returns the locked directory (cleaned, absolute when given so).
func (l *Lock) Dir() string { return l.dir }

// Acquire takes the exclusive lock on dir, which must exist, without
// waiting: when another process holds it, it returns a *HeldError naming
// the holder. On success the lock file holds this process's pid, start
// time and host name, with mode 0600.
func Acquire(dir string) (*Lock, error) {
	dir = filepath.Clean(dir)
	file := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|noFollow, fileMode)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	held, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory lock %s: %w", file, err)
	}
	if held {
		f.Close()
		return nil, &HeldError{Dir: dir, File: file, Holder: readHolder(file)}
	}
	l := &Lock{dir: dir, f: f}
	if err := l.writeHolder(); err != nil {
		l.Release()
		return nil, fmt.Errorf("data directory lock %s: %w", file, err)
	}
	return l, nil
}

// writeHolder records this process in the lock file and sets its mode.
func (l *Lock) writeHolder() error {
	if err := chmod(l.f, fileMode); err != nil {
		return err
	}
	host, _ := os.Hostname()
	content := fmt.Sprintf("pid %d\nstarted %s\nhost %s\n", os.Getpid(),
		time.Now().UTC().Format(time.RFC3339Nano), host)
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	if _, err := l.f.WriteAt([]byte(content), 0); err != nil {
		return err
	}
	return l.f.Sync()
}

// Release empties the lock file (so nobody reads a stale holder), then
// unlocks and closes it. It is safe to call on a nil Lock and more than
// once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Truncate(0)
	err = errors.Join(err, unlockFile(l.f), l.f.Close())
	l.f = nil
	if err != nil {
		return fmt.Errorf("data directory lock release: %w", err)
	}
	return nil
}

// ReadHolder returns what the holder of dir's lock wrote into the lock
// file; a released or never-taken lock reads as a zero Holder.
func ReadHolder(dir string) Holder {
	return readHolder(filepath.Join(dir, LockFile))
}

// readHolder parses the lock file. The holder writes it just after
// locking, so an empty file is read again briefly before giving up.
func readHolder(file string) Holder {
	var h Holder
	for try := 0; try < 5; try++ {
		b, err := os.ReadFile(file)
		if err != nil {
			return h
		}
		if h = parseHolder(string(b)); h.PID != 0 {
			return h
		}
		time.Sleep(20 * time.Millisecond)
	}
	return h
}

// parseHolder reads "key value" lines; unknown keys are ignored.
func parseHolder(s string) Holder {
	var h Holder
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "started":
			h.Started, _ = time.Parse(time.RFC3339Nano, v)
		case "host":
			h.Host = v
		}
	}
	return h
}
