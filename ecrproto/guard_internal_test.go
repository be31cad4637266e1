package ecrproto

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLooksLikeHTTP(t *testing.T) {
	for _, line := range []string{"GET / HTTP/1.1", "post /x HTTP/1.0", "OPTIONS * HTTP/1.1", "PRI * HTTP/2.0",
		"CONNECT a:1 HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 12", "X-Y:", "foo bar HTTP/1.1", "  TRACE /"} {
		if !looksLikeHTTP([]byte(line)) {
			t.Errorf("%q not taken for HTTP", line)
		}
	}
	for _, line := range []string{`{"type":"PING","id":"1"}`, "hello world", "junk", "a:b", "no colon here", "12:30 ok"} {
		if looksLikeHTTP([]byte(line)) {
			t.Errorf("%q taken for HTTP", line)
		}
	}
}

func TestClip(t *testing.T) {
	if got := clip("short"); got != "short" {
		t.Fatalf("clip(short) = %q", got)
	}
	for _, s := range []string{strings.Repeat("x", 1000), strings.Repeat("é", 500), strings.Repeat("付", 300)} {
		got := clip(s)
		if len(got) > MaxEcho || !strings.HasSuffix(got, EchoMarker) || !utf8.ValidString(got) {
			t.Errorf("clip of %d bytes = %d bytes %q…", len(s), len(got), got[:10])
		}
	}
}

// fakeClock is a settable clock for the limiter and the failure table.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestLogLimiter(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := newLogLimiter(time.Minute, clk.now)
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("first event not allowed")
	}
	for range 5 {
		if ok, _ := l.allow("a"); ok {
			t.Fatal("a second warning within the interval")
		}
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("another peer was limited")
	}
	clk.t = clk.t.Add(time.Minute)
	if ok, n := l.allow("a"); !ok || n != 5 {
		t.Fatalf("after the interval: ok=%v suppressed=%d, want true 5", ok, n)
	}
}

func TestAuthFailures(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a := newAuthFailures(time.Second, 4*time.Second, clk.now)
	var got []time.Duration
	for range 5 {
		got = append(got, a.delay("p"))
		a.failed("p")
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	clk.t = clk.t.Add(a.forget)
	if d := a.delay("p"); d != 0 {
		t.Fatalf("delay %v after a quiet spell, want 0", d)
	}
	a.failed("p")
	a.succeeded("p")
	if d := a.delay("p"); d != 0 {
		t.Fatalf("delay %v after a success, want 0", d)
	}
}
