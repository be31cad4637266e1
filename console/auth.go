package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// cookieName is the session cookie; the __Host- prefix (TLS only) pins it
// to this origin.
const (
	cookieName    = "tillbridge_console"
	tlsCookieName = "__Host-tillbridge_console"
	csrfField     = "csrf"
)

// session is one logged-in browser.
type session struct {
	csrf    string
	expires time.Time
}

// auth holds the one-time login tokens and the sessions. Tokens and
// session ids are kept only as SHA-256 hashes.
type auth struct {
	mu       sync.Mutex
	tokens   map[[32]byte]time.Time
	sessions map[[32]byte]*session
	ttl      time.Duration
	now      func() time.Time
}

func newAuth(ttl time.Duration) *auth {
	return &auth{tokens: map[[32]byte]time.Time{}, sessions: map[[32]byte]*session{}, ttl: ttl, now: time.Now}
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// mint returns a new single-use login token and its expiry.
func (a *auth) mint() (string, time.Time) {
	tok := randomToken()
	exp := a.now().Add(TokenTTL)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweepLocked()
	a.tokens[hash(tok)] = exp
	return tok, exp
}

// redeem consumes a login token and opens a session: it returns the
// session id, or "" when the token is unknown, used or expired.
func (a *auth) redeem(tok string) string {
	if tok == "" {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweepLocked()
	h := hash(tok)
	if _, ok := a.tokens[h]; !ok {
		return ""
	}
	delete(a.tokens, h)
	id := randomToken()
	a.sessions[hash(id)] = &session{csrf: randomToken(), expires: a.now().Add(a.ttl)}
	return id
}

// session returns the live session of id, or nil.
func (a *auth) session(id string) *session {
	if id == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[hash(id)]
	if s == nil || !a.now().Before(s.expires) {
		return nil
	}
	return s
}

// logout ends the session of id.
func (a *auth) logout(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, hash(id))
}

// sweepLocked drops expired tokens and sessions.
func (a *auth) sweepLocked() {
	now := a.now()
	for h, exp := range a.tokens {
		if !now.Before(exp) {
			delete(a.tokens, h)
		}
	}
	for h, s := range a.sessions {
		if !now.Before(s.expires) {
			delete(a.sessions, h)
		}
	}
}

// csrfOK compares a form's CSRF token with the session's in constant time.
func csrfOK(s *session, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(s.csrf), []byte(got)) == 1
}

// securityHeaders are set on every answer.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// hostAllowed reports whether a request's Host header names this console:
// localhost, a loopback IP, the listen address's host, or a configured
// host name. Anything else is a DNS-rebinding attempt or a wrong link.
func hostAllowed(hostHeader string, allowed map[string]bool) bool {
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" {
		return false
	}
	if allowed[host] || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin reports whether a state-changing request comes from the
// console's own pages. A browser's Sec-Fetch-Site (which no page can
// forge) must be same-origin; without it (an older browser, a script), an
// Origin header must name this origin. Under Referrer-Policy no-referrer a
// browser sends "Origin: null" with a form's POST, so Sec-Fetch-Site is the
// check that counts for browsers. The CSRF token is checked in any case.
func sameOrigin(r *http.Request, scheme string) bool {
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" {
		if sfs != "same-origin" {
			return false
		}
		o := r.Header.Get("Origin")
		return o == "" || o == "null" || o == scheme+"://"+r.Host
	}
	if o := r.Header.Get("Origin"); o != "" {
		return o == scheme+"://"+r.Host
	}
	return true
}
