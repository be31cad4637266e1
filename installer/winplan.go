package installer

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kardianos/service"
)

// This file builds the steps of a Windows install. It is plain Go on every
// platform, so a Linux host can show a Windows dry run and test it; the
// steps call the Windows-only parts through host.

// windowsActions: folders, their ACL, sample config, service, recovery.
func windowsActions(p Plan) ([]action, error) {
	w, err := WindowsSettings(p)
	if err != nil {
		return nil, err
	}
	var acts []action
	for _, dir := range w.ACLFolders {
		acts = append(acts, windowsDirAction(dir))
	}
	acts = append(acts, windowsACLAction(w.ACLFolders))
	acts = append(acts, sampleConfigAction(p, "", "", 0o600))
	acts = append(acts, windowsServiceAction(w), windowsRecoveryAction(w))
	return acts, nil
}

func windowsDirAction(dir string) action {
	return action{
		summary: "create folder " + dir + " if missing",
		apply:   func(_ context.Context, h host) (string, error) { return "", h.mkdirAll(dir, 0o750) },
	}
}

// windowsACLAction limits the folders to SYSTEM and Administrators:
// %ProgramData% lets every user read by default, and keys live here.
func windowsACLAction(dirs []string) action {
	return action{
		summary: fmt.Sprintf("restrict %s to SYSTEM and Administrators (full control, inheritance from the parent removed; SDDL %s)",
			strings.Join(dirs, ", "), WindowsACL),
		apply: func(_ context.Context, h host) (string, error) {
			for _, d := range dirs {
				if err := h.restrictACL(d, WindowsACL); err != nil {
					return "", err
				}
			}
			return "", nil
		},
	}
}

func windowsServiceAction(w WindowsService) action {
	cfg := &service.Config{
		Name: w.Name, DisplayName: w.DisplayName, Description: w.Description,
		Executable: w.Executable, Arguments: w.Arguments, EnvVars: w.Environment,
		Option: w.kardianosOptions(),
	}
	return action{
		summary: fmt.Sprintf("create Windows service %s and register Event Log source %s", w.Name, w.EventSource),
		content: w.Text(),
		apply: func(_ context.Context, h host) (string, error) {
			s, err := h.service(cfg)
			if err != nil {
				return "", err
			}
			return "", s.Install()
		},
	}
}

func windowsRecoveryAction(w WindowsService) action {
	return action{
		summary: "set the recovery actions through the SCM and read them back: " + w.recoverySummary(),
		apply: func(_ context.Context, h host) (string, error) {
			return "verified", h.setRecovery(w)
		},
	}
}

// recoverySummary is "restart after 5s, 30s, 60s; reset after 24h0m0s;
// also on non-crash failures".
func (w WindowsService) recoverySummary() string {
	var d []string
	for _, a := range w.Recovery {
		d = append(d, systemdSeconds(a.Delay))
	}
	s := fmt.Sprintf("restart after %s; failure count reset after %s", strings.Join(d, ", "), fmtDays(w.ResetPeriod))
	if w.RecoveryOnNonCrashFailures {
		s += "; also when the service stops with an error"
	}
	return s
}

// fmtDays shows whole days as "1 day"/"N days", else the duration.
func fmtDays(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// Text renders the settings as the SCM shows them, one per line.
func (w WindowsService) Text() string {
	var b strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&b, "%-31s %s\n", k+":", v) }
	kv("Service name", w.Name)
	kv("Display name", w.DisplayName)
	kv("Description", w.Description)
	kv("Command line", w.CommandLine())
	start := w.StartType
	if w.DelayedAutoStart {
		start += " (delayed start)"
	}
	kv("Start type", start)
	kv("Log on as", w.Account)
	for i, a := range w.Recovery {
		kv(ordinal(i, len(w.Recovery))+" failure", fmt.Sprintf("%s the service after %s", a.Action, systemdSeconds(a.Delay)))
	}
	kv("Reset fail count after", fmtDays(w.ResetPeriod))
	kv("Actions for stops with errors", fmt.Sprint(w.RecoveryOnNonCrashFailures))
	kv("Event Log source", w.EventSource)
	keys := make([]string, 0, len(w.Environment))
	for k := range w.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv("Environment", k+"="+w.Environment[k])
	}
	return b.String()
}

// ordinal names the failure an action applies to, as services.msc does:
// First, Second, and Subsequent for the last one.
func ordinal(i, n int) string {
	switch {
	case i == n-1 && i > 0:
		return "Subsequent"
	case i == 0:
		return "First"
	case i == 1:
		return "Second"
	}
	return fmt.Sprintf("Failure %d", i+1)
}
