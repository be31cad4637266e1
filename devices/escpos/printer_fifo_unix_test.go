//go:build unix

package escpos

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/devices"
)

// TestFilePrinterOnBlockedFIFOHonoursTimeout: a file-backed printer whose
// device is a FIFO nobody reads blocks in open(2); Print still returns a
// timeout error when its context ends, and the printer works once a reader
// is there (the lock is not held by the abandoned open).
func TestFilePrinterOnBlockedFIFOHonoursTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lp.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	p := newTestPrinter(t, devices.FileOpener(path), func(c *PrinterConfig) { c.OneWay = true })
	reader := func() *os.File {
		r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Print(ctx, testJob(t, "blocked")) }()
	select {
	case err := <-done:
		if !errors.Is(err, devices.ErrTimeout) {
			t.Fatalf("Print on a FIFO without a reader: %v, want a timeout error", err)
		}
	case <-time.After(10 * time.Second):
		r := reader() // unblock the open so the test can end
		defer r.Close()
		t.Fatal("Print on a FIFO without a reader ignored its context")
	}
	r := reader()
	defer r.Close()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := p.Print(ctx2, testJob(t, "after")); err != nil {
		t.Fatalf("Print once a reader is there: %v", err)
	}
}
