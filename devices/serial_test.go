//go:build linux || darwin

package devices

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// openPty returns a pty pair closed at test end.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Skipf("no pty available: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// pointLink atomically makes link point to target.
func pointLink(t *testing.T, target, link string) {
	t.Helper()
	tmp := link + ".new"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
}

func TestSerialPrinterTransportOverPty(t *testing.T) {
	master, slave := openPty(t)
	ctx := context.Background()
	tr, err := SerialOpener(SerialConfig{Port: slave.Name(), Baud: 19200})(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()

	// The printer side: record print bytes, answer DLE EOT 1 with "online".
	var mu sync.Mutex
	var got bytes.Buffer
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := master.Read(buf)
			if err != nil {
				return
			}
			for i := 0; i < n; i++ {
				if buf[i] == 0x10 && i+2 < n && buf[i+1] == 0x04 {
					master.Write([]byte{0x12})
					i += 2
					continue
				}
				mu.Lock()
				got.WriteByte(buf[i])
				mu.Unlock()
			}
		}
	}()

	job := []byte("\x1b@receipt 12.50\n\x1dVB\x00")
	if _, err := tr.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Write(ctx, []byte{0x10, 0x04, 0x01}); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b := make([]byte, 1)
	if n, err := tr.Read(rctx, b); err != nil || n != 1 || b[0] != 0x12 {
		t.Fatalf("status read = %d % x %v", n, b, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(got.Bytes(), job) {
		t.Fatalf("printer side got % x, want % x", got.Bytes(), job)
	}
}

func TestSerialReadHonoursContext(t *testing.T) {
	_, slave := openPty(t)
	tr, err := SerialOpener(SerialConfig{Port: slave.Name()})(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Read(ctx, make([]byte, 1)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Read with cancelled ctx = %v, want timeout", err)
	}
}

func TestSerialOpenErrors(t *testing.T) {
	ctx := context.Background()
	_, err := SerialOpener(SerialConfig{Port: filepath.Join(t.TempDir(), "ttyNONE")})(ctx)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing port: %v, want not_found", err)
	}
	_, err = SerialOpener(SerialConfig{Port: "/dev/null", Parity: "sideways"})(ctx)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("bad parity: %v, want bad_config", err)
	}
	_, err = SerialOpener(SerialConfig{})(ctx)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("no port: %v, want bad_config", err)
	}
}

func TestSerialScannerReadsLinesAndSurvivesUnplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyScanner")
	m1, s1 := openPty(t)
	pointLink(t, s1.Name(), link)

	var errs []error
	var errMu sync.Mutex
	sc := NewSerialScanner("lane1", SerialConfig{Port: link, Baud: 9600}, LineScannerConfig{
		Backoff: Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond},
		OnError: func(err error) { errMu.Lock(); errs = append(errs, err); errMu.Unlock() },
	})
	out, stop := runScanner(t, sc)
	testenv.WaitFor(t, 10*time.Second, func() bool { return sc.State().State == "connected" }, "scanner connected")

	// Two codes in one write, CR LF and bare CR terminators, a blank line.
	m1.Write([]byte("2860123456789012345\r\n\r\n2512345678901234\r"))
	if s := nextScan(t, out); s.Code != "2860123456789012345" || s.Source != "serial:"+link || s.At.IsZero() {
		t.Fatalf("scan 1 = %+v", s)
	}
	if s := nextScan(t, out); s.Code != "2512345678901234" {
		t.Fatalf("scan 2 = %+v", s)
	}

	// Unplug: the device disappears; the scanner notices and retries.
	m1.Close()
	s1.Close()
	os.Remove(link)
	testenv.WaitFor(t, 10*time.Second, func() bool { return sc.State().State == "connecting" }, "scanner notices unplug")

	// Replug as a new tty node behind the same configured path.
	m2, s2 := openPty(t)
	pointLink(t, s2.Name(), link)
	testenv.WaitFor(t, 10*time.Second, func() bool { return sc.State().State == "connected" }, "scanner reconnected")
	m2.Write([]byte("2700000000000000001\n"))
	if s := nextScan(t, out); s.Code != "2700000000000000001" {
		t.Fatalf("scan after replug = %+v", s)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	if st := sc.State().State; st != "stopped" {
		t.Fatalf("state after stop = %q", st)
	}
	errMu.Lock()
	defer errMu.Unlock()
	if len(errs) == 0 {
		t.Fatal("unplug was not reported through OnError")
	}
}
