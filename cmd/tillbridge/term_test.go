package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/tillbridge/tillbridge/daemon"
)

// TestConsoleNoColorWhenNotTerminal: console log lines written to a pipe or
// a buffer (make run | tee, a CI log) carry no ANSI escapes.
func TestConsoleNoColorWhenNotTerminal(t *testing.T) {
	cfg := daemon.NewConfig()
	var console bytes.Buffer
	l, err := openLogs(&console, cfg, logTarget{})
	if err != nil {
		t.Fatal(err)
	}
	log := l.Logger()
	log.Warn().Str("lane", "1").Msg("plain please")
	l.Close()
	if !strings.Contains(console.String(), "plain please") {
		t.Fatalf("console got %q", console.String())
	}
	if strings.Contains(console.String(), "\x1b[") {
		t.Fatalf("ANSI escape in non-terminal console output: %q", console.String())
	}
}

// TestColorConsole: colours only on a terminal, never with NO_COLOR or
// TERM=dumb, never on a regular file.
func TestColorConsole(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if colorConsole(f, getenv) {
		t.Error("regular file: colours on")
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if !colorConsole(tty, getenv) {
		t.Error("terminal: colours off")
	}
	env["NO_COLOR"] = "1"
	if colorConsole(tty, getenv) {
		t.Error("NO_COLOR set: colours on")
	}
	delete(env, "NO_COLOR")
	env["TERM"] = "dumb"
	if colorConsole(tty, getenv) {
		t.Error("TERM=dumb: colours on")
	}
}
