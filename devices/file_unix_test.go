//go:build unix

package devices

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// mkfifo makes a FIFO in a temp dir; nothing reads it yet.
func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "printer.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return path
}

// openReader opens the FIFO's read end without blocking; the caller closes it.
func openReader(t *testing.T, path string) *os.File {
	t.Helper()
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFileOpenerFIFOWithoutReaderTimesOut: open(2) of a FIFO with no reader
// blocks; the Opener still returns at ctx's end with a timeout error, and
// once a reader comes the next open gets the device and writes to it.
func TestFileOpenerFIFOWithoutReaderTimesOut(t *testing.T) {
	path := mkfifo(t)
	open := FileOpener(path)
	for range 2 { // the second call waits on the same blocked open
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		done := make(chan error, 1)
		go func() { _, err := open(ctx); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("open of a FIFO without a reader: %v, want a timeout error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("open of a FIFO without a reader ignored its context")
		}
		cancel()
	}
	r := openReader(t, path)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := open(ctx)
	if err != nil {
		t.Fatalf("open once a reader is there: %v", err)
	}
	defer tr.Close()
	if _, err := tr.Write(ctx, []byte("job\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 16)
	n, _ := r.Read(got)
	if string(got[:n]) != "job\n" {
		t.Fatalf("reader got %q", got[:n])
	}
}

// TestFileTransportWriteHonoursDeadline: a FIFO whose reader stopped
// reading fills up; the write returns a timeout at ctx's deadline.
func TestFileTransportWriteHonoursDeadline(t *testing.T) {
	path := mkfifo(t)
	r := openReader(t, path)
	tr, err := FileOpener(path)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	defer r.Close() // first: a write still blocked fails once the reader is gone
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := tr.Write(ctx, bytes.Repeat([]byte{'x'}, 1<<20)); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("write to a full FIFO: %v, want a timeout error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write to a full FIFO ignored its deadline")
	}
}
