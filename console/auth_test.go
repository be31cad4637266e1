package console_test

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/console"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
)

// checkHeaders asserts the security headers every answer carries.
func checkHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP %q allows inline or eval", what, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: nosniff / no-referrer missing: %v", what, h)
	}
}

func TestConsoleLoginAndRefusals(t *testing.T) {
	e := startEnv(t, nil)
	anon := browser(t)

	// Without a login every page and action is refused.
	for _, p := range []string{"/", "/queue", "/lanes", "/devices", "/events", "/receipt.png?ref=x"} {
		resp, err := anon.Get(e.base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without login: HTTP %d, want 401", p, resp.StatusCode)
		}
		checkHeaders(t, "GET "+p, resp.Header)
	}
	if code, _ := post(t, anon, e.base+"/gateway/check", url.Values{"csrf": {"x"}}, nil); code != http.StatusUnauthorized {
		t.Errorf("POST without login: HTTP %d, want 401", code)
	}
	if code, body := get(t, anon, e.base+"/login?token=not-a-token"); code != http.StatusUnauthorized || !strings.Contains(body, "bad-token") {
		t.Errorf("bad token: HTTP %d", code)
	}

	// A one-time link logs in once, with a strict session cookie.
	l := e.login()
	c := browser(t)
	resp, err := c.Get(l.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, l.Token) {
		t.Error("the session cookie is the login token")
	}
	if code, body := get(t, c, e.base+"/"); code != http.StatusOK || !strings.Contains(body, `id="verdict"`) {
		t.Fatalf("health after login: HTTP %d", code)
	}
	if code, _ := get(t, browser(t), l.URL); code != http.StatusUnauthorized {
		t.Errorf("second use of a login link: HTTP %d, want 401", code)
	}

	// A foreign Host header (DNS rebinding) is refused, even logged in.
	req, _ := http.NewRequest(http.MethodGet, e.base+"/", nil)
	req.Host = "attacker.example:7440"
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: HTTP %d, want 421", resp.StatusCode)
	}
	local := browser(t)
	if code, _ := get(t, local, strings.Replace(e.login().URL, "127.0.0.1", "localhost", 1)); code != http.StatusSeeOther {
		t.Errorf("login at localhost: HTTP %d, want 303", code)
	}
	if code, _ := get(t, local, strings.Replace(e.base, "127.0.0.1", "localhost", 1)+"/"); code != http.StatusOK {
		t.Errorf("Host localhost: HTTP %d, want 200", code)
	}

	// Every action needs the session's CSRF token and a same-origin request.
	_, page := get(t, c, e.base+"/gateway")
	tok := csrf(t, page)
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{}, nil},
		{"wrong token", url.Values{"csrf": {tok[:len(tok)-2] + "xx"}}, nil},
		{"foreign Origin", url.Values{"csrf": {tok}}, map[string]string{"Origin": "http://attacker.example"}},
		{"cross-site fetch", url.Values{"csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
	}
	for _, tc := range cases {
		if code, _ := post(t, c, e.base+"/gateway/check", tc.form, tc.hdr); code != http.StatusForbidden {
			t.Errorf("POST with %s: HTTP %d, want 403", tc.name, code)
		}
	}
	code, body := post(t, c, e.base+"/gateway/check", url.Values{"csrf": {tok}},
		map[string]string{"Origin": e.base, "Sec-Fetch-Site": "same-origin"})
	if code != http.StatusOK || !strings.Contains(body, `id="gateway-verdict" class="verdict ok"`) {
		t.Errorf("gateway check with the token: HTTP %d\n%s", code, body)
	}

	// Logging out ends the session.
	if code, _ := post(t, c, e.base+"/logout", url.Values{"csrf": {tok}}, nil); code != http.StatusOK {
		t.Errorf("logout: HTTP %d", code)
	}
	if code, _ := get(t, c, e.base+"/"); code != http.StatusUnauthorized {
		t.Errorf("after logout: HTTP %d, want 401", code)
	}
}

func TestConsoleResolveManualAndNoSecrets(t *testing.T) {
	e := startEnv(t, manualConfig)
	code := sandboxCode(0, 4242)
	if res := e.sale("1", "PAID-1", code); res.Status != "APPROVED" {
		t.Fatalf("sale: %+v", res)
	}
	id := e.manualSale("2", "STUCK-1")
	c := e.loggedIn()

	_, page := get(t, c, e.base+"/queue")
	if !strings.Contains(page, "/queue/"+id) {
		t.Fatal("the queue page does not list the MANUAL operation")
	}
	_, page = get(t, c, e.base+"/queue/"+id)
	tok := csrf(t, page)
	if !strings.Contains(page, `id="resolve"`) {
		t.Fatal("no resolve form on a MANUAL operation")
	}
	form := url.Values{"csrf": {tok}, "state": {"cancelled"}, "operator": {"Ann"}}
	if st, body := post(t, c, e.base+"/queue/"+id+"/resolve", form, nil); st != http.StatusBadRequest || !strings.Contains(body, "reason is required") {
		t.Errorf("resolve without a reason: HTTP %d", st)
	}
	form.Set("reason", "portal shows the trade closed")
	if st, _ := post(t, c, e.base+"/queue/"+id+"/resolve", form, nil); st != http.StatusSeeOther {
		t.Fatalf("resolve: HTTP %d, want 303", st)
	}
	d, err := e.ctl.Operation(e.ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Op.State != "cancelled" {
		t.Errorf("after resolve: state %s, want cancelled", d.Op.State)
	}
	journaled := false
	for _, ev := range d.Events {
		journaled = journaled || (strings.Contains(ev.Detail, "console:Ann") && strings.Contains(ev.Detail, "portal shows the trade closed"))
	}
	if !journaled {
		t.Errorf("the resolution's operator and reason are not in the journal: %+v", d.Events)
	}

	// No page shows a full buyer code or a secret.
	key, err := os.ReadFile(filepath.Join(e.dir, daemon.SandboxKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := e.ctl.Queue(e.ctx(), control.QueueQuery{Lane: "1"})
	pages := []string{"/", "/lanes", "/devices", "/queue", "/reconcile", "/gateway", "/receipt?lane=1&ref=PAID-1"}
	for _, o := range ops {
		pages = append(pages, "/queue/"+o.ID)
	}
	for _, p := range pages {
		st, body := get(t, c, e.base+p)
		if st != http.StatusOK {
			t.Errorf("GET %s: HTTP %d", p, st)
		}
		if strings.Contains(body, code) || strings.Contains(body, strings.TrimSpace(string(key))) {
			t.Errorf("GET %s shows a full buyer code or the MD5 key", p)
		}
	}
	st, png := get(t, c, e.base+"/receipt.png?lane=1&ref=PAID-1")
	if st != http.StatusOK || !strings.HasPrefix(png, "\x89PNG") {
		t.Errorf("receipt PNG: HTTP %d", st)
	}
}

func TestConsoleOffAndConfig(t *testing.T) {
	off := startEnv(t, func(c *daemon.Config) { c.Console.Enabled = false })
	_, err := off.ctl.ConsoleToken(off.ctx())
	if !errors.Is(err, &control.Error{Code: control.CodeUnsupported}) {
		t.Errorf("console token with the console off: %v, want unsupported", err)
	}
	bad := []console.Config{
		{Enabled: true, Listen: "0.0.0.0:7440"},
		{Enabled: true, Listen: "192.0.2.1:7440", TLSCert: "c.pem"},
		{Enabled: true, Hosts: []string{"till:7440"}},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v validates", c)
		}
	}
	good := []console.Config{{}, {Enabled: true}, {Enabled: true, Listen: "[::1]:0"},
		{Enabled: true, Listen: "0.0.0.0:7440", TLSCert: "c.pem", TLSKey: "k.pem", Hosts: []string{"till-3.local"}}}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
