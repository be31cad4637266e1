package installer

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// SystemdUnitPath is the unit file of the plan's service.
func (p Plan) SystemdUnitPath() string {
	return path.Join(SystemdUnitDir, p.Name+".service")
}

// RenderSystemdUnit returns the complete systemd unit of the plan. Install
// writes exactly this text (kardianos/service's own template is replaced,
// because it hard-codes RestartSec=120, sets the start limit in the wrong
// section and has no Group=), and --dry-run prints it.
func RenderSystemdUnit(p Plan) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	if p.OS != "linux" {
		return "", fmt.Errorf("%w: a systemd unit is for linux, not %s", ErrInvalidPlan, p.OS)
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# %s: written by `tillbridge install`; `tillbridge uninstall` removes it.", p.SystemdUnitPath())
	line("# Local changes belong in a drop-in: systemctl edit %s", p.Name)
	line("[Unit]")
	line("Description=%s", p.DisplayName)
	line("After=network-online.target")
	line("Wants=network-online.target")
	line("StartLimitIntervalSec=%s", systemdSeconds(p.StartLimitInterval))
	line("StartLimitBurst=%d", p.StartLimitBurst)
	line("")
	line("[Service]")
	line("Type=simple")
	line("ExecStart=%s", systemdCommand(p.Executable, p.Arguments()))
	writeUnitEnvironment(&b, p.Environment())
	if p.User != "" {
		line("User=%s", p.User)
		line("Group=%s", p.Group)
	}
	line("WorkingDirectory=%s", p.Paths.Data)
	if dir, ok := runtimeDirectory(p.Paths.Run); ok {
		line("RuntimeDirectory=%s", dir)
		line("RuntimeDirectoryMode=0750")
	}
	line("UMask=0027")
	line("Restart=on-failure")
	line("RestartSec=%s", systemdSeconds(p.RestartSec))
	line("TimeoutStopSec=%s", systemdSeconds(p.StopTimeout))
	if p.LimitNOFILE > 0 {
		line("LimitNOFILE=%d", p.LimitNOFILE)
	}
	writeHardening(&b, p)
	line("")
	line("[Install]")
	line("WantedBy=multi-user.target")
	return b.String(), nil
}

// writeHardening writes the sandboxing settings: the whole file system is
// read-only to the daemon except its data and log folders (and a runtime
// folder systemd does not manage), so the service cannot change its own
// configuration, binary or keys; no home folders, no capabilities (not even
// as root), only the socket families it uses (AF_NETLINK: libusb's hot-plug
// events) and the system calls of an ordinary service. No PrivateDevices=:
// the daemon opens USB printers and scanners.
func writeHardening(b *strings.Builder, p Plan) {
	rw := []string{p.Paths.Data, p.Paths.Logs}
	if _, ok := runtimeDirectory(p.Paths.Run); !ok && p.Paths.Run != "" {
		rw = append(rw, p.Paths.Run)
	}
	for i, d := range rw {
		rw[i] = systemdQuote(d)
	}
	for _, l := range []string{
		"NoNewPrivileges=yes",
		"ProtectSystem=strict",
		"ReadWritePaths=" + strings.Join(rw, " "),
		"ProtectHome=yes",
		"PrivateTmp=yes",
		"CapabilityBoundingSet=",
		"RestrictAddressFamilies=" + strings.Join(unitAddressFamilies(), " "),
		"SystemCallFilter=@system-service",
		"SystemCallErrorNumber=EPERM",
		"SystemCallArchitectures=native",
		"ProtectKernelTunables=yes",
		"ProtectKernelModules=yes",
		"ProtectControlGroups=yes",
		"RestrictSUIDSGID=yes",
		"RestrictNamespaces=yes",
		"LockPersonality=yes",
	} {
		fmt.Fprintln(b, l)
	}
}

// unitAddressFamilies are the socket families the daemon uses: unix
// sockets (ECR, control, syslog), IPv4/IPv6 (gateway, network printers,
// ECR over TCP) and netlink (libusb device hot-plug).
func unitAddressFamilies() []string {
	return []string{"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}
}

// writeUnitEnvironment writes one sorted Environment= line per variable.
func writeUnitEnvironment(b *strings.Builder, env map[string]string) {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "Environment=%s\n", systemdQuote(k+"="+env[k]))
	}
}

// runtimeDirectory returns the RuntimeDirectory= value for a runtime folder
// under /run, which systemd creates (owned by User=) at every start; /run
// is emptied at boot, so the installer cannot create it once.
func runtimeDirectory(run string) (string, bool) {
	rel, ok := strings.CutPrefix(path.Clean(run), "/run/")
	return rel, ok && run != "" && rel != ""
}

// systemdCommand renders an ExecStart= command line.
func systemdCommand(exe string, args []string) string {
	parts := []string{systemdQuote(exe)}
	for _, a := range args {
		parts = append(parts, systemdQuote(a))
	}
	return strings.Join(parts, " ")
}

// systemdQuote quotes s for a unit file when it holds spaces or quotes,
// and escapes specifiers (%) and variable expansion ($). Validate refuses
// such characters in paths; this keeps any other value safe too.
func systemdQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	s = strings.ReplaceAll(s, "$", "$$")
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + s + `"`
}

// systemdSeconds renders a duration as systemd seconds ("5s", "600s").
func systemdSeconds(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
}
