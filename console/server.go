// Package console is the local technician console in the browser: the
// control API's diagnostics and actions (health, lanes, devices, the
// queue and its manual resolution, receipts, reconciliation, validation
// reports, gateway check, support bundle) as server-rendered pages, with a
// live event stream (SSE) of the journal.
//
// It runs inside the daemon over control.Local, never over the control
// socket, and knows nothing of the daemon package. Off by default; when on
// it listens on loopback (anything else needs TLS). A browser logs in with
// a one-time link that `tillbridge console` asks the daemon for (the same
// rights as the control socket), then holds an HttpOnly, SameSite=Strict
// session cookie. Every action is a POST checked for the session's CSRF
// token (constant time), Origin and Sec-Fetch-Site; every answer carries a
// strict Content-Security-Policy (no inline script), nosniff,
// frame-ancestors 'none' and Referrer-Policy no-referrer; a Host header
// that names another host is refused (DNS rebinding). Pages show only what
// the control API shows: buyer codes masked, no secrets.
package console

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/control"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Server limits.
const (
	headerWait   = 10 * time.Second
	shutdownWait = time.Second
	maxFormBytes = 16 << 10
)

// Options are what the console takes from the daemon besides its table.
type Options struct {
	// Logger receives logins, refusals and failures.
	Logger zerolog.Logger
	// ReconDB is the reconciliation database (DATA/recon.db) whose
	// exceptions the Recon page lists read-only; "" hides them.
	ReconDB string
}

// Server is the console's HTTP server. Create it with New, serve it with
// Serve; Login mints one-time links for `tillbridge console`.
type Server struct {
	cfg     Config
	opts    Options
	api     *control.Local
	log     zerolog.Logger
	auth    *auth
	pages   map[string]*template.Template
	allowed map[string]bool
	scheme  string

	mu   sync.Mutex
	base string // the URL the console is reached at, once listening
}

// New builds the console over the in-process control API. cfg must be
// valid (Config.Validate).
func New(cfg Config, api *control.Local, o Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, opts: o, api: api, log: o.Logger.With().Str("component", "console").Logger(),
		auth: newAuth(cfg.ttl()), pages: pages, allowed: map[string]bool{}, scheme: "http"}
	if cfg.TLS() {
		s.scheme = "https"
	}
	for _, h := range cfg.Hosts {
		s.allowed[strings.ToLower(h)] = true
	}
	if h, _, err := net.SplitHostPort(cfg.ListenAddr()); err == nil && h != "" {
		s.allowed[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	return s, nil
}

// Listen opens the configured TCP address.
func (s *Server) Listen(ctx context.Context) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.ListenAddr())
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	s.setBase(ln.Addr())
	return ln, nil
}

// Serve serves the console on ln until ctx ends, then closes ln and
// returns nil (live streams end with ctx). It returns early only when ln
// fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.setBase(ln.Addr())
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: headerWait,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	if s.cfg.TLS() {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("console: tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownWait)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return nil
}

// setBase records the URL the console is reached at.
func (s *Server) setBase(a net.Addr) {
	host := a.String()
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", fmt.Sprint(ta.Port))
	}
	s.mu.Lock()
	s.base = s.scheme + "://" + host
	s.mu.Unlock()
}

// Login mints a one-time login link (control.ConsoleBackend for the
// daemon): good for one login within TokenTTL.
func (s *Server) Login(context.Context) (control.ConsoleLogin, error) {
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	if base == "" {
		return control.ConsoleLogin{}, control.Errorf(control.CodeStarting, "the console is not listening yet")
	}
	tok, exp := s.auth.mint()
	return control.ConsoleLogin{URL: base + "/login?token=" + tok, Token: tok, Expires: exp}, nil
}

// Handler is the console's HTTP handler: security headers and the Host
// check on everything, a session on every page but the login and the
// assets, CSRF and same-origin checks on every POST.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(assetFS, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /login", s.handleLogin)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/assets/favicon.svg", http.StatusMovedPermanently)
	})
	for _, r := range s.routes() {
		mux.Handle(r.pattern, s.requireSession(r.handle))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if !hostAllowed(r.Host, s.allowed) {
			s.log.Warn().Str("host", r.Host).Str("remote", r.RemoteAddr).Msg("console request with a foreign Host refused")
			http.Error(w, "unknown host name: open the console at the address `tillbridge console` prints", http.StatusMisdirectedRequest)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// sessionKey carries the request's session in its context.
type sessionKey struct{}

// pageHandler is a handler that gets the request's session.
type pageHandler func(w http.ResponseWriter, r *http.Request, sess *session)

// requireSession refuses a request without a live session (pages redirect
// to a note on how to log in) and a POST that fails the CSRF or
// same-origin checks.
func (s *Server) requireSession(h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := s.auth.session(s.cookie(r))
		if sess == nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" {
				w.WriteHeader(http.StatusUnauthorized)
				s.render(w, r, nil, "loggedout", nil)
				return
			}
			http.Error(w, "not logged in: run `tillbridge console` for a login link", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if !sameOrigin(r, s.scheme) {
				s.log.Warn().Str("path", r.URL.Path).Str("origin", r.Header.Get("Origin")).Msg("cross-site console request refused")
				http.Error(w, "cross-site request refused", http.StatusForbidden)
				return
			}
			if !csrfOK(sess, r.PostFormValue(csrfField)) {
				s.log.Warn().Str("path", r.URL.Path).Msg("console request with a bad CSRF token refused")
				http.Error(w, "bad or missing CSRF token: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r, sess)
	})
}

// cookie returns the request's session cookie value.
func (s *Server) cookie(r *http.Request) string {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return ""
	}
	return c.Value
}

func (s *Server) cookieName() string {
	if s.cfg.TLS() {
		return tlsCookieName
	}
	return cookieName
}

// handleLogin redeems a one-time token, sets the session cookie and
// sends the browser to the health page (the token leaves the address bar).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	id := s.auth.redeem(r.URL.Query().Get("token"))
	if id == "" {
		s.log.Warn().Str("remote", r.RemoteAddr).Msg("console login with an unknown, used or expired token")
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, nil, "loggedout", map[string]any{"BadToken": true})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: id, Path: "/", HttpOnly: true,
		Secure: s.cfg.TLS(), SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.ttl().Seconds())})
	s.log.Info().Str("remote", r.RemoteAddr).Msg("console login")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// handleLogout ends the session.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, _ *session) {
	s.auth.logout(s.cookie(r))
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", HttpOnly: true,
		Secure: s.cfg.TLS(), SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusOK)
	s.render(w, r, nil, "loggedout", map[string]any{"LoggedOut": true})
}
