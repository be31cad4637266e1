package ecrproto

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// This file holds the server's defences against input that is not an ECR
// talking the protocol: a web browser driven by a page on the till (HTTP),
// a scanner probing the port, or a peer flooding it.

// MaxEcho is the most bytes of a client's value (id, lane, ref, type, a
// field's text) that the server echoes in an answer or writes to its log;
// a longer value is cut to MaxEcho bytes ending in EchoMarker.
const MaxEcho = 256

// EchoMarker ends a value cut to MaxEcho bytes.
const EchoMarker = "[...]"

// clip cuts s to at most MaxEcho bytes, on a UTF-8 boundary, ending in
// EchoMarker when anything was cut.
func clip(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	n := MaxEcho - len(EchoMarker)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + EchoMarker
}

// httpMethods are the request methods of HTTP/1.x, and "PRI", the start of
// the HTTP/2 connection preface ("PRI * HTTP/2.0").
var httpMethods = [...]string{"GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD",
	"PATCH", "CONNECT", "TRACE", "PRI"}

// looksLikeHTTP reports whether a line (without its line end) is an HTTP
// request line or header line: "METHOD target", "… HTTP/1.1", or
// "Header-Name: value". No line of the protocol looks like either: every
// JSON line starts with '{'.
func looksLikeHTTP(line []byte) bool {
	line = bytes.TrimLeft(line, " \t")
	if sp := bytes.IndexByte(line, ' '); sp > 0 {
		word := string(line[:sp])
		for _, m := range httpMethods {
			if strings.EqualFold(word, m) {
				return true
			}
		}
	}
	return bytes.Contains(line, []byte(" HTTP/")) || isHeaderLine(line)
}

// isHeaderLine reports whether line is "Name: value" with an HTTP token
// as the name (e.g. "Host: 127.0.0.1:7420", "Content-Type: text/plain").
func isHeaderLine(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || colon > 64 {
		return false
	}
	for _, c := range line[:colon] {
		if !isTokenChar(c) {
			return false
		}
	}
	return colon+1 == len(line) || line[colon+1] == ' ' || line[colon+1] == '\t'
}

// isTokenChar reports whether c may appear in an HTTP header name.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// peerHost is the part of a peer's address that identifies the peer for
// caps, failed-HELLO delays and log limits: the IP of a TCP peer, the
// whole address otherwise (a unix socket or pipe: all local peers share
// one).
func peerHost(a net.Addr) string {
	if a == nil {
		return ""
	}
	s := a.String()
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return s
}

// maxTracked bounds the peers a logLimiter or authFailures remembers, so
// a flood from many addresses cannot grow them without limit.
const maxTracked = 4096

// logLimiter lets one warning per peer through per interval and counts
// the rest, so a peer that sends junk cannot fill (and rotate away) the
// log. The warnings that get through carry the count suppressed before.
type logLimiter struct {
	interval time.Duration
	now      func() time.Time

	mu    sync.Mutex
	peers map[string]*limitEntry
}

type limitEntry struct {
	start      time.Time // of the current interval
	suppressed int       // events since the last warning let through
}

func newLogLimiter(interval time.Duration, now func() time.Time) *logLimiter {
	return &logLimiter{interval: interval, now: now, peers: map[string]*limitEntry{}}
}

// allow reports whether an event from peer may be logged as a warning,
// and how many were suppressed since the last one that was.
func (l *logLimiter) allow(peer string) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.peers[peer]
	if e == nil {
		if len(l.peers) >= maxTracked {
			l.sweep(now)
		}
		if len(l.peers) >= maxTracked {
			return false, 0 // too many peers at once: everything goes to debug
		}
		l.peers[peer] = &limitEntry{start: now}
		return true, 0
	}
	if now.Sub(e.start) < l.interval {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.start, e.suppressed = now, 0
	return true, n
}

// sweep forgets peers quiet for a whole interval. Callers hold l.mu.
func (l *logLimiter) sweep(now time.Time) {
	for p, e := range l.peers {
		if now.Sub(e.start) >= l.interval {
			delete(l.peers, p)
		}
	}
}

// authFailures counts failed HELLOs per peer on remote listeners; each
// failure doubles the delay before that peer's next HELLO is answered, up
// to a maximum. A success clears the peer; a peer with no failure for
// forget is cleared too.
type authFailures struct {
	base, max, forget time.Duration
	now               func() time.Time

	mu    sync.Mutex
	peers map[string]*failEntry
}

type failEntry struct {
	n    int
	last time.Time
}

func newAuthFailures(base, max time.Duration, now func() time.Time) *authFailures {
	return &authFailures{base: base, max: max, forget: 10 * max, now: now, peers: map[string]*failEntry{}}
}

// delay returns how long to wait before answering peer's HELLO.
func (a *authFailures) delay(peer string) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.peers[peer]
	if e == nil || a.base <= 0 {
		return 0
	}
	if a.now().Sub(e.last) >= a.forget {
		delete(a.peers, peer)
		return 0
	}
	d := a.base
	for i := 1; i < e.n && d < a.max; i++ {
		d *= 2
	}
	return min(d, a.max)
}

// failed records a failed HELLO (or other first message) from peer.
func (a *authFailures) failed(peer string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	e := a.peers[peer]
	if e == nil {
		if len(a.peers) >= maxTracked {
			for p, old := range a.peers {
				if now.Sub(old.last) >= a.forget {
					delete(a.peers, p)
				}
			}
		}
		if len(a.peers) >= maxTracked {
			return
		}
		e = &failEntry{}
		a.peers[peer] = e
	}
	e.n++
	e.last = now
}

// succeeded clears peer's failures.
func (a *authFailures) succeeded(peer string) {
	a.mu.Lock()
	delete(a.peers, peer)
	a.mu.Unlock()
}
