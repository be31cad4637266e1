package devices

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestNetworkScannerReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sc := NewNetworkScanner("lane2", ln.Addr().String(), LineScannerConfig{Backoff: Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	out, stop := runScanner(t, sc)

	c1, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c1.Write([]byte("2860123456789012345\r\n28601234"))
	if s := nextScan(t, out); s.Code != "2860123456789012345" || s.Source != "tcp:"+ln.Addr().String() {
		t.Fatalf("scan = %+v", s)
	}
	c1.Write([]byte("56789012345\n"))
	if s := nextScan(t, out); s.Code != "2860123456789012345" {
		t.Fatalf("line split across writes = %+v", s)
	}
	c1.Write([]byte("partial-never-terminated"))
	c1.Close() // the base station drops the connection

	c2, err := ln.Accept() // the scanner dials again
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write([]byte("2512345678901234\n"))
	if s := nextScan(t, out); s.Code != "2512345678901234" {
		t.Fatalf("scan after reconnect = %+v (a partial line must not leak across connections)", s)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

func TestLineScannerDiscardsOverlongLines(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sc := NewNetworkScanner("x", ln.Addr().String(), LineScannerConfig{MaxLine: 32})
	out, _ := runScanner(t, sc)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(strings.Repeat("9", 100) + "\n2860123456789012345\n"))
	if s := nextScan(t, out); s.Code != "2860123456789012345" {
		t.Fatalf("scan = %q, want the overlong line discarded", s.Code)
	}
}

func TestLineScannerNeedsBackend(t *testing.T) {
	err := NewLineScanner(LineScannerConfig{Name: "x"}).Run(context.Background(), make(chan Scan))
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("Run = %v, want bad_config", err)
	}
}

func TestSimScanner(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	sc := NewSimScanner("sim", func() time.Time { return t0 })
	out, stop := runScanner(t, sc)
	if err := sc.Feed(context.Background(), "2860123456789012345"); err != nil {
		t.Fatal(err)
	}
	if s := nextScan(t, out); s.Code != "2860123456789012345" || !s.At.Equal(t0) || s.Source != "sim:sim" {
		t.Fatalf("scan = %+v", s)
	}
	if sc.Name() != "sim" {
		t.Fatal(sc.Name())
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(i); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if got := (Backoff{}).Delay(100); got != 5*time.Second {
		t.Errorf("default max = %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Backoff{Min: time.Hour}).Wait(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on cancelled ctx = %v", err)
	}
}
