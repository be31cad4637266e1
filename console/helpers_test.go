package console_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// bound bounds every wait; no test asserts on a duration.
const bound = 60 * time.Second

// env is a real daemon on the in-process sandbox with its console on.
type env struct {
	t    testing.TB
	dir  string
	sb   *daemon.Sandbox
	d    *daemon.Daemon
	ecr  string
	ctl  *control.Client
	base string // the console's URL
}

// startEnv starts the sandbox and a daemon with the console on a free
// loopback port; config adjusts the configuration first.
func startEnv(t testing.TB, config func(*daemon.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	p := daemon.NewConfig().Payment
	p.FirstQuery, p.QueryInterval, p.PayDeadline = 80*time.Millisecond, 80*time.Millisecond, 1500*time.Millisecond
	p.BackoffMin, p.BackoffMax, p.CancelWait = 50*time.Millisecond, 200*time.Millisecond, 10*time.Second
	p.ScanTimeout = 20 * time.Second
	sb, err := daemon.StartSandbox(daemon.SandboxOptions{DataDir: dir, ECRListen: "127.0.0.1:0",
		SandboxListen: "127.0.0.1:0", Lanes: 2, Payment: &p, GatewayTimeout: 500 * time.Millisecond,
		Gateway: sandbox.Config{ConfirmDelay: 300 * time.Millisecond, AutoClose: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = sb.Close(ctx)
	})
	cfg := sb.Config
	cfg.Console.Enabled, cfg.Console.Listen = true, "127.0.0.1:0"
	if config != nil {
		config(cfg)
	}
	ready := make(chan []net.Addr, 1)
	d, err := daemon.New(cfg, daemon.Options{Version: "test-1.0", OnReady: func(a []net.Addr) { ready <- a }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	e := &env{t: t, dir: dir, sb: sb, d: d, ctl: control.NewClient(daemon.ControlAddress(cfg))}
	select {
	case a := <-ready:
		e.ecr = a[0].String()
	case err := <-done:
		t.Fatalf("daemon stopped during start-up: %v", err)
	case <-time.After(bound):
		t.Fatal("daemon not ready")
	}
	t.Cleanup(func() {
		stop()
		e.ctl.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon Run: %v", err)
			}
		case <-time.After(bound):
			t.Error("daemon did not stop")
		}
	})
	if !cfg.Console.Enabled {
		return e
	}
	login := e.login()
	u, err := url.Parse(login.URL)
	if err != nil {
		t.Fatal(err)
	}
	e.base = u.Scheme + "://" + u.Host
	return e
}

// ctx is a bounded context for one call.
func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	e.t.Cleanup(cancel)
	return ctx
}

// login asks the daemon for a one-time link over the control socket, as
// `tillbridge console` does.
func (e *env) login() control.ConsoleLogin {
	e.t.Helper()
	l, err := e.ctl.ConsoleToken(e.ctx())
	if err != nil {
		e.t.Fatalf("console token: %v", err)
	}
	return l
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects on its own.
func browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: bound,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// loggedIn returns a client holding a session.
func (e *env) loggedIn() *http.Client {
	e.t.Helper()
	c := browser(e.t)
	resp, err := c.Get(e.login().URL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login: HTTP %d, want 303", resp.StatusCode)
	}
	return c
}

// get fetches a page and returns its status and body.
func get(t testing.TB, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page.
func csrf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

// post sends a form with extra headers and returns status and body.
func post(t testing.TB, c *http.Client, u string, form url.Values, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sale runs one SALE over the ECR protocol to its final answer.
func (e *env) sale(lane, ref, code string) *ecrproto.Message {
	e.t.Helper()
	c, err := ecrproto.Dial(e.ctx(), "tcp", e.ecr, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Do(e.ctx(), &ecrproto.Message{Type: ecrproto.TypeSale, Lane: lane, Ref: ref,
		Amount: ecrproto.Int(1250), Currency: "HKD", Barcode: code})
	if err != nil {
		e.t.Fatalf("sale %s: %v", ref, err)
	}
	return res
}

// manualSale drives a sale to MANUAL: the buyer never confirms (34), the
// pay deadline passes, and the first cancel answers SYSTEM_ERROR with
// max_attempts = 1. It returns the operation id.
func (e *env) manualSale(lane, ref string) string {
	e.t.Helper()
	e.sale(lane, ref, sandboxCode(34, 7))
	deadline := time.Now().Add(bound)
	for {
		ops, err := e.ctl.Queue(e.ctx(), control.QueueQuery{Lane: lane, States: []string{"manual"}})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, o := range ops {
			if o.Ref == ref {
				return o.ID
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("sale %s never reached MANUAL", ref)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// manualConfig sets max_attempts = 1 so a failed cancel ends MANUAL.
func manualConfig(c *daemon.Config) { c.Payment.MaxAttempts = 1 }

// sandboxCode is an 18-digit sandbox buyer code ending in scenario sc.
func sandboxCode(sc, n int) string { return fmt.Sprintf("28%014d%02d", n, sc) }
