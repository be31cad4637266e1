package installer

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ServiceName is the name of the installed service (systemd unit
// tillbridge.service, Windows service "tillbridge").
const ServiceName = "tillbridge"

// Environment variables that override the default paths. The installed
// service sets them too, so the daemon, the CLI and the service agree.
const (
	EnvConfig = "TILLBRIDGE_CONFIG"
	EnvData   = "TILLBRIDGE_DATA"
	EnvLogs   = "TILLBRIDGE_LOGS"
	EnvRun    = "TILLBRIDGE_RUN"
)

// LogFileName is the name of the daemon's log file in Paths.Logs.
const LogFileName = "tillbridge.log"

// Paths are the places tillbridge keeps its files. The daemon and the CLI
// both start from DefaultPaths, so they find each other without flags.
type Paths struct {
	// Config is the configuration file.
	Config string
	// Data holds the journal and other state.
	Data string
	// Logs holds the rotating log files.
	Logs string
	// Run holds runtime files such as unix sockets; empty on Windows,
	// where the control channel is a named pipe.
	Run string
}

// DefaultPaths returns the paths of this platform, each overridden by its
// environment variable when set:
//
//	          Linux                            Windows
//	Config    /etc/tillbridge/tillbridge.toml  %ProgramData%\tillbridge\tillbridge.toml
//	Data      /var/lib/tillbridge              %ProgramData%\tillbridge\data
//	Logs      /var/log/tillbridge              %ProgramData%\tillbridge\logs
//	Run       /run/tillbridge                  (none)
func DefaultPaths() Paths { return DefaultPathsFor(runtime.GOOS, os.Getenv) }

// DefaultPathsFor returns the default paths of goos with the environment
// overrides read through getenv. It lets a Linux host render a Windows plan
// (install --dry-run --os windows) and tests pin the environment.
func DefaultPathsFor(goos string, getenv func(string) string) Paths {
	var p Paths
	if goos == "windows" {
		root := winJoin(programData(getenv), "tillbridge")
		p = Paths{Config: winJoin(root, "tillbridge.toml"), Data: winJoin(root, "data"), Logs: winJoin(root, "logs")}
	} else {
		p = Paths{Config: "/etc/tillbridge/tillbridge.toml", Data: "/var/lib/tillbridge",
			Logs: "/var/log/tillbridge", Run: "/run/tillbridge"}
	}
	return p.WithEnv(getenv)
}

// programData is %ProgramData%, C:\ProgramData when unset.
func programData(getenv func(string) string) string {
	if v := getenv("ProgramData"); v != "" {
		return v
	}
	return `C:\ProgramData`
}

// winJoin joins Windows path elements with backslashes on any host.
func winJoin(dir, name string) string {
	return strings.TrimRight(dir, `\/`) + `\` + name
}

// WithEnv returns p with every path whose environment variable is set
// replaced by its value.
func (p Paths) WithEnv(getenv func(string) string) Paths {
	set := func(dst *string, key string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	set(&p.Config, EnvConfig)
	set(&p.Data, EnvData)
	set(&p.Logs, EnvLogs)
	set(&p.Run, EnvRun)
	return p
}

// RegisterFlags adds --config, --data, --logs and --run-dir to fs, with
// p's current values as defaults; parsing writes into p.
func (p *Paths) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&p.Config, "config", p.Config, "configuration `file` (env "+EnvConfig+")")
	fs.StringVar(&p.Data, "data", p.Data, "data `folder`: journal and state (env "+EnvData+")")
	fs.StringVar(&p.Logs, "logs", p.Logs, "log `folder` (env "+EnvLogs+")")
	fs.StringVar(&p.Run, "run-dir", p.Run, "runtime `folder` for sockets (env "+EnvRun+")")
}

// ErrPathRequired is wrapped by Abs when Config, Data or Logs is empty.
var ErrPathRequired = errors.New("path required")

// Abs returns p with every path made absolute against the current folder
// (a service starts in / or system32, so nothing relative may reach it).
// Config, Data and Logs must be set; Run may be empty.
func (p Paths) Abs() (Paths, error) {
	for _, f := range p.fields() {
		if *f.ptr == "" {
			if f.name == "run-dir" {
				continue
			}
			return p, fmt.Errorf("--%s: %w", f.name, ErrPathRequired)
		}
		abs, err := filepath.Abs(*f.ptr)
		if err != nil {
			return p, fmt.Errorf("--%s %s: %w", f.name, *f.ptr, err)
		}
		*f.ptr = abs
	}
	return p, nil
}

// LogFile is the daemon's log file: Logs/tillbridge.log.
func (p Paths) LogFile() string { return filepath.Join(p.Logs, LogFileName) }

// namedPath is one field of Paths with its flag name.
type namedPath struct {
	name string
	ptr  *string
}

// fields lists p's fields by flag name; the pointers write into p.
func (p *Paths) fields() []namedPath {
	return []namedPath{{"config", &p.Config}, {"data", &p.Data}, {"logs", &p.Logs}, {"run-dir", &p.Run}}
}
