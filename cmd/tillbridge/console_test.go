package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// TestConsoleCommandAgainstRunSandbox: `run --sandbox` turns the console
// on and says how to open it; `tillbridge console` prints a one-time link
// that logs a browser in once.
func TestConsoleCommandAgainstRunSandbox(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	stdout := &testenv.Buffer{}
	go func() {
		done <- runMain(ctx, cmdIO{strings.NewReader(""), stdout, &testenv.Buffer{}}, []string{"run", "--sandbox",
			"--data", dir, "--ecr-listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0", "--lanes", "1",
			"--console-listen", "127.0.0.1:0"})
	}()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("run exited %d", code)
		}
	}()
	var code int
	var out string
	for end := time.Now().Add(diagBound); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if code, out, _ = run(t, "console", "--json", "--data", dir); code == exitOK {
			break // 3 until it listens
		}
	}
	var login control.ConsoleLogin
	if err := json.Unmarshal([]byte(out), &login); err != nil || code != exitOK || !strings.HasPrefix(login.URL, "http://127.0.0.1:") {
		t.Fatalf("console --json: exit %d, %v\n%s", code, err, out)
	}
	help := "Console: run `bin/tillbridge console --data " + dir + "` for a login link"
	for end := time.Now().Add(diagBound); time.Now().Before(end) && !strings.Contains(stdout.String(), help); {
		time.Sleep(20 * time.Millisecond) // the help follows "ready"
	}
	if !strings.Contains(stdout.String(), help) {
		t.Errorf("run --sandbox does not say how to open the console:\n%s", stdout.String())
	}
	code, out, _ = run(t, "console", "--data", dir)
	if code != exitOK || !strings.Contains(out, "/login?token=") {
		t.Fatalf("console: exit %d\n%s", code, out)
	}
	link := strings.TrimSpace(out[strings.Index(out, "http://"):])

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: diagBound}
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		resp, err := c.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("use %d of the link: HTTP %d, want %d\n%s", i+1, resp.StatusCode, want, body)
		}
		if i == 0 && !strings.Contains(string(body), `id="verdict"`) {
			t.Errorf("the link does not land on the health page:\n%s", body)
		}
		c.Jar, _ = cookiejar.New(nil)
	}
}

// TestConsoleCommandConsoleOff: with the console off the command says so.
func TestConsoleCommandConsoleOff(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, cmdIO{strings.NewReader(""), &testenv.Buffer{}, &testenv.Buffer{}}, []string{"run", "--sandbox",
			"--data", dir, "--ecr-listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0", "--lanes", "1",
			"--console-listen", "off"})
	}()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("run exited %d", code)
		}
	}()
	var code int
	var errOut string
	for end := time.Now().Add(diagBound); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if code, _, errOut = run(t, "console", "--data", dir); code != exitNoDaemon {
			break
		}
	}
	if code != exitFailure || !strings.Contains(errOut, "console is off") {
		t.Errorf("console with the console off: exit %d\n%s", code, errOut)
	}
}
