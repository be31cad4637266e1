package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/recon/parse"
)

// startSandboxRecon starts the sandbox's reconciliation files and SFTP
// server on the loopback port after the gateway's (127.0.0.1:7431 by
// default; a free port when the gateway listens on port 0, as tests do).
// A failure is reported and the sandbox runs on without it:
// reconciliation is a demo extra, never a reason not to sell.
func startSandboxRecon(cio cmdIO, sb *daemon.Sandbox, data, gatewayListen string) *daemon.SandboxRecon {
	listen := "127.0.0.1:0"
	if _, p, err := net.SplitHostPort(gatewayListen); err == nil {
		if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65535 {
			listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(n+1))
		}
	}
	rs, err := daemon.StartSandboxRecon(sb, data, listen, nil)
	if err != nil {
		fmt.Fprintf(cio.stderr, "tillbridge run: sandbox reconciliation files not served: %v\n", err)
		return nil
	}
	return rs
}

// printSandboxReconHelp tells a newcomer how to see a day reconciled.
func printSandboxReconHelp(w io.Writer, rs *daemon.SandboxRecon, data, sandboxURL string) {
	if rs == nil {
		return
	}
	today := time.Now().In(parse.Beijing()).Format(time.DateOnly)
	exe := os.Args[0] // bin/tillbridge after `make run`
	if b := filepath.Base(exe); b != "tillbridge" && b != "tillbridge.exe" {
		exe = "tillbridge"
	}
	fmt.Fprintf(w, `Alipay's reconciliation files of the sandbox (rewritten every 10 s) are in %s,
served read-only by SFTP on %s (user %s, password in %s,
host key fingerprint %s). Reconcile today (Beijing day) against them:
  %s reconcile --data %s --date %s
Plant a mismatch, then reconcile again (kinds: unknown_paid, missing, wrong_amount, fee, duplicate):
  curl -s -X POST -d '{"kind":"unknown_paid","amount":990}' %s/sandbox/file-faults

`, rs.Dir, rs.Addr, daemon.SandboxPartner, filepath.Join(data, daemon.SandboxSFTPPasswordFile), rs.Fingerprint,
		exe, data, today, sandboxURL)
}
