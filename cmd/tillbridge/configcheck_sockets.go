package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/installer"
)

// maxSocketMode is the widest mode config check accepts for a unix ECR
// socket: the service account and its group (the ECR software's account
// is put in that group, or in `group`).
const maxSocketMode os.FileMode = 0o660

// defaultSocketMode is a [[listen]] unix socket's mode when `mode` is not
// set (docs/configuration.md).
const defaultSocketMode = "0660"

// socketProblems checks the unix sockets of cfg: ECR sockets no wider than
// 0660, and the control socket and ECR sockets not in a folder everyone
// may write (anyone could create the socket there first and answer in
// tillbridge's place).
func socketProblems(cfg *daemon.Config) []string {
	if runtime.GOOS == "windows" {
		return nil // named pipes; their ACL is set by the daemon
	}
	var out []string
	for i, l := range cfg.Listen {
		if l.Network != "unix" {
			continue
		}
		key := fmt.Sprintf("listen[%d]", i)
		mode := l.Mode
		if mode == "" {
			mode = defaultSocketMode
		}
		if m, err := strconv.ParseUint(mode, 8, 32); err == nil && os.FileMode(m)&^maxSocketMode != 0 {
			out = append(out, fmt.Sprintf("%s.mode: %s is wider than %04o: users outside the socket's group could send sales; "+
				"use %04o and put the ECR software's account in the socket's group (listen.group)", key, mode, maxSocketMode, maxSocketMode))
		}
		if err := installer.CheckSocketFolder(l.Address, "ECR socket "+l.Address); err != nil {
			out = append(out, key+".address: "+err.Error())
		}
	}
	dataDir := cfg.Daemon.DataDir
	if dataDir == "" {
		dataDir = installer.DefaultPaths().Data
	}
	ctl := cfg.Control.Socket
	if ctl == "" {
		ctl = control.DefaultAddress(dataDir)
	}
	if err := installer.CheckSocketFolder(ctl, "control socket "+ctl); err != nil {
		out = append(out, "control.socket: "+err.Error())
	}
	return out
}
