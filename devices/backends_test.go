package devices

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestFileOpenerAppends(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "printer.bin")
	for _, job := range []string{"one\n", "two\n"} {
		tr, err := FileOpener(path)(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Write(ctx, []byte(job)); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Read(ctx, make([]byte, 1)); !errors.Is(err, ErrOneWay) {
			t.Fatalf("Read = %v, want one_way", err)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		if err := tr.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := tr.Write(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Write after Close = %v", err)
		}
	}
	got, _ := os.ReadFile(path)
	if string(got) != "one\ntwo\n" {
		t.Fatalf("file = %q", got)
	}
	if _, err := FileOpener(filepath.Join(t.TempDir(), "missing", "x"))(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing dir: %v", err)
	}
}

func TestNetworkOpenerErrors(t *testing.T) {
	ctx := context.Background()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := NetworkOpener(addr, time.Second)(ctx); !errors.Is(err, ErrOffline) {
		t.Fatalf("refused: %v, want offline", err)
	}
	if _, err := NetworkOpener("no-port", time.Second)(ctx); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad addr: %v, want bad_config", err)
	}
}

func TestNetworkTransportReadTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			c.Read(make([]byte, 1)) // hold the connection, never answer
		}
	}()
	tr, err := NetworkOpener(ln.Addr().String(), time.Second)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := tr.Read(ctx, make([]byte, 1)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Read = %v, want timeout", err)
	}
	if tr.String() != "tcp:"+ln.Addr().String() {
		t.Fatal(tr.String())
	}
}

func TestSpoolerOnOtherOS(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("real spooler")
	}
	_, err := SpoolerOpener("EPSON TM-T20")(context.Background())
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("spooler on %s: %v, want unsupported", runtime.GOOS, err)
	}
}

func TestSimPrinterTransport(t *testing.T) {
	ctx := context.Background()
	sim := NewSimPrinter("p")
	tr, err := sim.Opener()(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr.Write(ctx, []byte("abc"))
	tr.Write(ctx, []byte{0x10, 0x04, 0x04})
	b := make([]byte, 1)
	if n, err := tr.Read(ctx, b); n != 1 || err != nil || b[0] != 0x12 {
		t.Fatalf("status reply %d % x %v", n, b, err)
	}
	sim.SetSilent(true)
	tr.Write(ctx, []byte{0x10, 0x04, 0x01})
	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := tr.Read(tctx, b); !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent Read = %v", err)
	}
	sim.Unplug()
	if _, err := tr.Write(ctx, []byte("x")); !errors.Is(err, ErrOffline) {
		t.Fatalf("Write after unplug = %v", err)
	}
	if _, err := tr.Read(ctx, b); !errors.Is(err, ErrOffline) {
		t.Fatalf("Read after unplug = %v", err)
	}
	if !bytes.Equal(sim.Printed(), []byte("abc")) {
		t.Fatalf("printed %q", sim.Printed())
	}
}

func TestDiscover(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()

	usb := func(ctx context.Context) ([]USBDevice, error) {
		return []USBDevice{{VID: 0x04b8, PID: 0x0202, Class: "printer", Role: RolePrinter}}, nil
	}
	serialList := func() ([]SerialPort, error) { return nil, errors.New("enumeration failed") }
	r := Discover(context.Background(), DiscoverOptions{
		USB:    usb,
		Serial: serialList,
		Network: []NetworkTarget{
			{Name: "kitchen", Addr: ln.Addr().String()},
			{Name: "bar", Addr: deadAddr},
		},
	})
	if len(r.USB) != 1 || r.USB[0].Role != RolePrinter || r.USBErr != "" {
		t.Fatalf("USB = %+v %q", r.USB, r.USBErr)
	}
	if r.SerialErr == "" {
		t.Fatal("serial enumeration error not reported")
	}
	if len(r.Network) != 2 || !r.Network[0].Reachable || r.Network[1].Reachable || r.Network[1].Code != CodeOffline {
		t.Fatalf("Network = %+v", r.Network)
	}
	if r2 := Discover(context.Background(), DiscoverOptions{Serial: serialList}); r2.USBErr == "" {
		t.Fatal("missing USB lister not reported")
	}
}

func TestListSerialPortsRuns(t *testing.T) {
	if _, err := ListSerialPorts(); err != nil && !errors.Is(err, ErrIO) {
		t.Fatalf("ListSerialPorts: %v", err)
	}
}
