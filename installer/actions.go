package installer

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/kardianos/service"
)

// action is one step of an install: what it does in words, the full text
// of the file it writes (if any), and how. Dry runs print summary and
// content; Install prints the summary and applies.
type action struct {
	summary string
	content string
	// apply does the step; the note it returns is printed after it
	// ("exists, kept"). Nil for steps that only inform.
	apply func(ctx context.Context, h host) (note string, err error)
	// fix, when set, makes a failure a warning: the install goes on and
	// the fix is printed for the administrator.
	fix string
}

// planActions lists the steps of installing p, in order.
func planActions(p Plan) ([]action, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.OS == "windows" {
		return windowsActions(p)
	}
	return linuxActions(p)
}

// owner is the Linux account owning the service's folders.
func (p Plan) owner() (user, group string) {
	if p.User == "" {
		return "root", "root"
	}
	return p.User, p.Group
}

// linuxActions: account, folders, sample config, udev rules, unit.
func linuxActions(p Plan) ([]action, error) {
	unit, err := RenderSystemdUnit(p)
	if err != nil {
		return nil, err
	}
	user, group := p.owner()
	var acts []action
	if p.User != "" {
		acts = append(acts, groupAction(p.Group), userAction(p))
	}
	acts = append(acts, configDirAction(path.Dir(p.Paths.Config), group))
	acts = append(acts,
		dirAction(p.Paths.Data, user, group, 0o750, true),
		dirAction(p.Paths.Logs, user, group, 0o750, true))
	acts = append(acts, runDirAction(p, user, group))
	acts = append(acts, configFileAction(p, group))
	acts = append(acts, udevActions(p)...)
	acts = append(acts, linuxServiceAction(p, unit))
	return acts, nil
}

func groupAction(group string) action {
	return action{
		summary: fmt.Sprintf("create system group %s if missing: groupadd --system %s", group, group),
		apply: func(ctx context.Context, h host) (string, error) {
			if ok, err := h.groupExists(group); err != nil || ok {
				return "exists", err
			}
			return "created", h.run(ctx, "groupadd", "--system", group)
		},
	}
}

// useraddArgs creates a system account with no login shell and no home.
func useraddArgs(p Plan) []string {
	return []string{"--system", "--gid", p.Group, "--home-dir", p.Paths.Data, "--no-create-home",
		"--shell", NoLoginShell, "--comment", "tillbridge service", p.User}
}

func userAction(p Plan) action {
	args := useraddArgs(p)
	return action{
		summary: fmt.Sprintf("create system user %s if missing: useradd %s", p.User, shellJoin(args)),
		apply: func(ctx context.Context, h host) (string, error) {
			if ok, err := h.userExists(p.User); err != nil || ok {
				return "exists", err
			}
			return "created", h.run(ctx, "useradd", args...)
		},
	}
}

// configDirAction makes the config folder root-owned and readable by the
// service group only; a top-level folder such as /etc is left alone.
func configDirAction(dir, group string) action {
	if tooBroad(dir) {
		return action{summary: fmt.Sprintf("use the existing folder %s for the configuration (not changed)", dir)}
	}
	a := dirAction(dir, "root", group, 0o750, false)
	return a
}

// dirAction creates dir and sets its owner and mode (recursive: the owner
// of everything below too, so a journal created by a root test run does
// not lock the service out).
func dirAction(dir, user, group string, mode fs.FileMode, recursive bool) action {
	r := ""
	if recursive {
		r = " (recursively)"
	}
	return action{
		summary: fmt.Sprintf("create folder %s if missing; owner %s:%s%s, mode %04o", dir, user, group, r, mode),
		apply: func(_ context.Context, h host) (string, error) {
			if err := h.mkdirAll(dir, mode); err != nil {
				return "", err
			}
			if err := h.chown(dir, user, group, recursive); err != nil {
				return "", err
			}
			return "", h.chmod(dir, mode)
		},
	}
}

// runDirAction: systemd creates a runtime folder under /run at each start;
// elsewhere the installer creates it once.
func runDirAction(p Plan, user, group string) action {
	if dir, ok := runtimeDirectory(p.Paths.Run); ok {
		return action{summary: fmt.Sprintf("runtime folder %s: created by systemd at every start (RuntimeDirectory=%s, owner %s, mode 0750)", p.Paths.Run, dir, user)}
	}
	if p.Paths.Run == "" {
		return action{summary: "no runtime folder"}
	}
	return dirAction(p.Paths.Run, user, group, 0o750, false)
}

// configFileAction installs the sample configuration root-owned, readable
// by the service group (root:tillbridge 0640): the service reads it but
// cannot change it. Run as root, the service needs no group: 0600.
func configFileAction(p Plan, group string) action {
	if p.User == "" {
		return sampleConfigAction(p, "root", group, 0o600)
	}
	return sampleConfigAction(p, "root", group, 0o640)
}

// sampleConfigAction installs the sample config only when there is none.
func sampleConfigAction(p Plan, user, group string, mode fs.FileMode) action {
	file := p.Paths.Config
	sum := fmt.Sprintf("install the commented sample configuration as %s if no file is there (never overwritten; %d bytes", file, len(p.SampleConfig))
	if p.OS == "linux" {
		sum += fmt.Sprintf("; owner %s:%s, mode %04o", user, group, mode)
	}
	return action{
		summary: sum + ")",
		apply: func(_ context.Context, h host) (string, error) {
			if len(p.SampleConfig) == 0 {
				return "no sample given: skipped", nil
			}
			created, err := h.createExcl(file, p.SampleConfig, mode)
			if err != nil || !created {
				return "exists, kept", err
			}
			if p.OS == "linux" {
				if err := h.chown(file, user, group, false); err != nil {
					return "", err
				}
			}
			return "written: edit it before starting the service", nil
		},
	}
}

// udevActions writes the udev rules and reloads udev; a reload failure is
// a warning with the exact commands to run.
func udevActions(p Plan) []action {
	switch {
	case p.User == "":
		return []action{{summary: "udev rules: none needed (the service runs as root)"}}
	case len(p.USB) == 0:
		return []action{{summary: "udev rules: no USB devices configured; add them later with `tillbridge install --udev-only --usb VID:PID,...`"}}
	}
	return udevWriteActions(p)
}

// udevWriteActions are the two udev steps, also used by --udev-only.
func udevWriteActions(p Plan) []action {
	rules := RenderUdevRules(p.Group, p.USB)
	file := p.UdevRulesFile
	return []action{
		{
			summary: fmt.Sprintf("write udev rules %s (owner root, mode 0644) for %s", file, usbList(p.USB)),
			content: rules,
			apply: func(_ context.Context, h host) (string, error) {
				return "", h.writeFile(file, []byte(rules), 0o644)
			},
		},
		{
			summary: "reload udev: " + UdevReloadCommand,
			fix:     "as root, run: " + UdevReloadCommand + "  (or unplug and replug the printer and scanners)",
			apply: func(ctx context.Context, h host) (string, error) {
				if err := h.run(ctx, "udevadm", "control", "--reload-rules"); err != nil {
					return "", err
				}
				return "", h.run(ctx, "udevadm", "trigger")
			},
		},
	}
}

func usbList(ids []USBID) string {
	var s []string
	for _, id := range uniqueSorted(ids) {
		s = append(s, id.String())
	}
	return strings.Join(s, ", ")
}

// linuxServiceAction writes the unit through kardianos/service, which also
// enables it and reloads systemd.
func linuxServiceAction(p Plan, unit string) action {
	cfg := &service.Config{
		Name: p.Name, DisplayName: p.DisplayName, Description: p.Description,
		Executable: p.Executable, Arguments: p.Arguments(),
		Option: service.KeyValue{"SystemdScript": unit},
	}
	return action{
		summary: fmt.Sprintf("install systemd unit %s and enable it at boot (systemctl enable %s; systemctl daemon-reload)", p.SystemdUnitPath(), p.Name),
		content: unit,
		apply: func(_ context.Context, h host) (string, error) {
			s, err := h.service(cfg)
			if err != nil {
				return "", err
			}
			return "", s.Install()
		},
	}
}

// shellJoin joins args for display, quoting those with spaces.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
