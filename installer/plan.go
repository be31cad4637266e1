package installer

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// Defaults of a Plan: the service manager settings store IT can rely on.
const (
	// DefaultUser is the Linux service account (and its group).
	DefaultUser = "tillbridge"
	// DefaultRestartSec is systemd's pause before a restart.
	DefaultRestartSec = 5 * time.Second
	// DefaultStartLimitInterval and DefaultStartLimitBurst: more than
	// Burst starts within Interval and systemd gives up (state "failed")
	// until `systemctl reset-failed tillbridge` or a reboot.
	DefaultStartLimitInterval = 10 * time.Minute
	DefaultStartLimitBurst    = 10
	// DefaultLimitNOFILE is the open-file limit of the service.
	DefaultLimitNOFILE = 8192
	// DefaultStopTimeout is how long systemd waits for a clean stop
	// before SIGKILL (the daemon itself stops within about 5 s).
	DefaultStopTimeout = 30 * time.Second
	// DefaultRecoveryReset is the Windows failure-count reset period.
	DefaultRecoveryReset = 24 * time.Hour
	// DefaultUdevRulesFile is where the Linux udev rules go.
	DefaultUdevRulesFile = "/etc/udev/rules.d/70-tillbridge.rules"
	// SystemdUnitDir is where the unit file goes.
	SystemdUnitDir = "/etc/systemd/system"
	// NoLoginShell is the shell of the created service account.
	NoLoginShell = "/usr/sbin/nologin"
)

// DefaultRecovery returns the Windows restart delays: 5 s, 30 s, then 60 s
// for every later failure (a fresh copy).
func DefaultRecovery() []time.Duration {
	return []time.Duration{5 * time.Second, 30 * time.Second, 60 * time.Second}
}

// Plan is everything an install needs, resolved up front so that a dry run
// shows exactly what Install would do. Build it with NewPlan and adjust the
// fields; Validate checks it.
type Plan struct {
	// OS is the target, "linux" or "windows".
	OS string
	// Name, DisplayName and Description of the service.
	Name, DisplayName, Description string
	// Executable is the absolute path of the tillbridge binary.
	Executable string
	// Paths are the absolute paths the service is given.
	Paths Paths
	// User and Group run the service on Linux and own its data and log
	// folders; created if missing. Empty User runs it as root. Unused on
	// Windows, where the service runs as LocalSystem.
	User, Group string
	// USB lists the VID:PID of the printers and scanners the service must
	// open; Linux udev rules grant Group access to them.
	USB []USBID
	// SampleConfig is written to Paths.Config when no file is there.
	SampleConfig []byte
	// Systemd settings.
	RestartSec         time.Duration
	StartLimitInterval time.Duration
	StartLimitBurst    int
	LimitNOFILE        int
	StopTimeout        time.Duration
	// Windows recovery: restart delays for the 1st, 2nd, 3rd (and later)
	// failure, and the period after which the failure count resets.
	Recovery      []time.Duration
	RecoveryReset time.Duration
	// UdevRulesFile is the Linux udev rules file.
	UdevRulesFile string
}

// NewPlan returns the default plan for goos with the given paths and
// binary.
func NewPlan(goos string, paths Paths, executable string) Plan {
	p := Plan{
		OS:                 goos,
		Name:               ServiceName,
		DisplayName:        "tillbridge payment bridge",
		Description:        "Bridges the cash-register software to Alipay: ECR socket, scanner, receipt printer and the payment journal.",
		Executable:         executable,
		Paths:              paths,
		RestartSec:         DefaultRestartSec,
		StartLimitInterval: DefaultStartLimitInterval,
		StartLimitBurst:    DefaultStartLimitBurst,
		LimitNOFILE:        DefaultLimitNOFILE,
		StopTimeout:        DefaultStopTimeout,
		Recovery:           DefaultRecovery(),
		RecoveryReset:      DefaultRecoveryReset,
	}
	if goos != "windows" {
		p.User, p.Group = DefaultUser, DefaultUser
		p.UdevRulesFile = DefaultUdevRulesFile
	}
	return p
}

// Arguments are the command-line arguments the service runs the binary
// with.
func (p Plan) Arguments() []string {
	return []string{"run", "--config", p.Paths.Config, "--data", p.Paths.Data}
}

// Environment is set in the service's environment, so the daemon knows the
// folders it is not given as flags (see Paths.WithEnv).
func (p Plan) Environment() map[string]string {
	env := map[string]string{EnvLogs: p.Paths.Logs}
	if p.Paths.Run != "" {
		env[EnvRun] = p.Paths.Run
	}
	return env
}

// ErrInvalidPlan is wrapped by every Validate error.
var ErrInvalidPlan = errors.New("invalid install plan")

var (
	accountName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	serviceName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Validate checks the plan: a known OS, absolute paths without characters
// the unit file cannot carry, sane account names and positive settings.
func (p Plan) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPlan, fmt.Sprintf(format, args...))
	}
	if p.OS != "linux" && p.OS != "windows" {
		return fail("target OS %q: want linux or windows", p.OS)
	}
	if !serviceName.MatchString(p.Name) {
		return fail("service name %q: letters, digits, - and _ only", p.Name)
	}
	if err := p.validatePaths(); err != nil {
		return fail("%v", err)
	}
	if p.OS == "windows" && (p.User != "" || p.Group != "") {
		return fail("--user/--group are Linux only: the Windows service runs as LocalSystem")
	}
	for _, n := range []string{p.User, p.Group} {
		if n != "" && !accountName.MatchString(n) {
			return fail("account name %q: lower-case letters, digits, - and _, at most 32", n)
		}
	}
	if p.User != "" && p.Group == "" {
		return fail("--group is required with --user")
	}
	if p.RestartSec <= 0 || p.StartLimitInterval <= 0 || p.StartLimitBurst <= 0 || p.StopTimeout <= 0 {
		return fail("restart settings must be positive")
	}
	if p.OS == "windows" && (len(p.Recovery) == 0 || p.RecoveryReset < time.Second) {
		return fail("Windows recovery needs at least one restart delay and a reset period")
	}
	return nil
}

// validatePaths checks every path the plan writes into a service
// definition.
func (p Plan) validatePaths() error {
	check := map[string]string{"binary": p.Executable, "--config": p.Paths.Config,
		"--data": p.Paths.Data, "--logs": p.Paths.Logs}
	if p.Paths.Run != "" {
		check["--run-dir"] = p.Paths.Run
	}
	if p.OS == "linux" {
		check["udev rules file"] = p.UdevRulesFile
	}
	for what, v := range check {
		if err := checkPath(p.OS, v); err != nil {
			return fmt.Errorf("%s %q: %w", what, v, err)
		}
	}
	for what, v := range map[string]string{"--data": p.Paths.Data, "--logs": p.Paths.Logs} {
		if p.OS == "linux" && tooBroad(v) {
			return fmt.Errorf("%s %q: refusing to take ownership of a system folder", what, v)
		}
	}
	if p.OS == "linux" {
		for what, v := range check {
			if underHome(v) {
				return fmt.Errorf("%s %q: the service cannot reach home folders (ProtectHome=yes); use /etc, /var/lib, /var/log or /opt", what, v)
			}
		}
	}
	return nil
}

// underHome reports a path the unit's ProtectHome=yes hides from the
// service: /home, /root and /run/user.
func underHome(v string) bool {
	v = path.Clean(v)
	for _, h := range []string{"/home", "/root", "/run/user"} {
		if v == h || strings.HasPrefix(v, h+"/") {
			return true
		}
	}
	return false
}

// checkPath requires an absolute path for goos without characters that a
// unit file or a service command line would mangle.
func checkPath(goos, v string) error {
	if v == "" {
		return ErrPathRequired
	}
	if strings.ContainsAny(v, "\"%$\n\r\t") || strings.Contains(v, "{{") || strings.Contains(v, "}}") {
		return errors.New(`must not contain quotes, %, $, {{, }} or control characters`)
	}
	if goos == "windows" {
		if !isWindowsAbs(v) {
			return errors.New(`must be absolute (C:\...): a service starts in system32`)
		}
		return nil
	}
	if !path.IsAbs(v) || strings.Contains(v, `\`) {
		return errors.New("must be an absolute path without backslashes")
	}
	return nil
}

// isWindowsAbs reports a drive-absolute (C:\x) or UNC (\\host\share) path.
func isWindowsAbs(v string) bool {
	if strings.HasPrefix(v, `\\`) {
		return true
	}
	return len(v) >= 3 && v[1] == ':' && (v[2] == '\\' || v[2] == '/') &&
		(v[0]|0x20 >= 'a' && v[0]|0x20 <= 'z')
}

// tooBroad reports a folder the installer must never chown -R: the root,
// a top-level folder, or a well-known system folder.
func tooBroad(dir string) bool {
	dir = path.Clean(dir)
	if strings.Count(dir, "/") < 2 {
		return true
	}
	switch dir {
	case "/var/lib", "/var/log", "/usr/local", "/usr/lib", "/usr/share", "/var/cache", "/etc/systemd":
		return true
	}
	return false
}
