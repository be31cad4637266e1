package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
)

func consoleCommand() command {
	return command{name: "console", summary: "print a one-time login link to the browser console",
		run: runConsole}
}

const consoleUsage = `usage: tillbridge console [--config FILE | --data DIR | --socket ADDR] [--json]

Asks the running daemon for a one-time login link to its browser console
(docs/console.md) and prints it. The link works once, for 5 minutes; the
browser then stays logged in for [console] session_ttl (default 8h). It
needs the same rights as the control socket (tillbridge status etc.).

The console is off unless [console] enabled = true; 'tillbridge run
--sandbox' turns it on at 127.0.0.1:7440.

Exit codes: 0 a link was printed; 1 the console is off or failed; 3 the
daemon is not running; 4 the daemon is still starting.

Examples:
  tillbridge console
  tillbridge console --data ./.run
`

func runConsole(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	fs := newCtlFlagSet("console", consoleUsage, cio, &f)
	if err := parseCtl(fs, args, false); err != nil {
		return err
	}
	login, err := callDaemon(ctx, &f, 30*time.Second, func(c context.Context, cl *control.Client) (control.ConsoleLogin, error) {
		return cl.ConsoleToken(c)
	})
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(cio.stdout, login)
	}
	fmt.Fprintf(cio.stdout, "Open this link in a browser on this till (it works once, until %s):\n\n  %s\n\n",
		login.Expires.Local().Format(time.TimeOnly), login.URL)
	return nil
}

// sandboxConsole turns the browser console on for `run --sandbox` at
// listen ("off" or "": no console).
func sandboxConsole(cfg *daemon.Config, listen string) {
	if listen == "" || listen == "off" {
		return
	}
	cfg.Console.Enabled, cfg.Console.Listen = true, listen
	cfg.Console.ValidationDir = filepath.Join(cfg.Daemon.DataDir, "validation")
}

// printSandboxConsoleHelp tells the person who ran `make run` how to open
// the console.
func printSandboxConsoleHelp(w io.Writer, cfg *daemon.Config, data string) {
	if !cfg.Console.Enabled {
		return
	}
	where := ""
	if !strings.HasSuffix(cfg.Console.ListenAddr(), ":0") {
		where = "http://" + cfg.Console.ListenAddr() + ", "
	}
	fmt.Fprintf(w, "Console: run `bin/tillbridge console --data %s` for a login link (%ssee docs/console.md)\n\n",
		data, where)
}
