package installer

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDefaultPathsPerOS(t *testing.T) {
	linux := DefaultPathsFor("linux", noEnv)
	if want := (Paths{"/etc/tillbridge/tillbridge.toml", "/var/lib/tillbridge", "/var/log/tillbridge", "/run/tillbridge"}); linux != want {
		t.Fatalf("linux defaults %+v, want %+v", linux, want)
	}
	env := func(k string) string {
		if k == "ProgramData" {
			return `D:\PD\`
		}
		return ""
	}
	win := DefaultPathsFor("windows", env)
	if want := (Paths{Config: `D:\PD\tillbridge\tillbridge.toml`, Data: `D:\PD\tillbridge\data`, Logs: `D:\PD\tillbridge\logs`}); win != want {
		t.Fatalf("windows defaults %+v, want %+v", win, want)
	}
	if got := DefaultPathsFor("windows", noEnv).Data; got != `C:\ProgramData\tillbridge\data` {
		t.Fatalf("windows data without %%ProgramData%%: %s", got)
	}
	for _, p := range []Paths{linux, win} {
		for _, f := range p.fields() {
			if *f.ptr != "" && checkPath(map[bool]string{true: "windows", false: "linux"}[p == win], *f.ptr) != nil {
				t.Errorf("default %s %q is not absolute", f.name, *f.ptr)
			}
		}
	}
}

func TestEnvironmentOverridesDefaults(t *testing.T) {
	env := map[string]string{EnvConfig: "/srv/tb.toml", EnvData: "/srv/data", EnvLogs: "/srv/logs", EnvRun: "/srv/run"}
	got := DefaultPathsFor("linux", func(k string) string { return env[k] })
	if want := (Paths{"/srv/tb.toml", "/srv/data", "/srv/logs", "/srv/run"}); got != want {
		t.Fatalf("env paths %+v, want %+v", got, want)
	}
}

func TestFlagsOverrideAndAbsResolves(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("asserts Unix absolute paths")
	}
	p := DefaultPathsFor("linux", noEnv)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	p.RegisterFlags(fs)
	if err := fs.Parse([]string{"--config", "rel/tb.toml", "--logs", "/l"}); err != nil {
		t.Fatal(err)
	}
	abs, err := p.Abs()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if abs.Config != filepath.Join(wd, "rel/tb.toml") || abs.Logs != "/l" || abs.Data != "/var/lib/tillbridge" {
		t.Fatalf("after flags and Abs: %+v", abs)
	}
	if abs.LogFile() != "/l/tillbridge.log" {
		t.Fatalf("LogFile %s", abs.LogFile())
	}
	p.Data = ""
	if _, err := p.Abs(); !errors.Is(err, ErrPathRequired) || !strings.Contains(err.Error(), "--data") {
		t.Fatalf("Abs with no data folder: %v", err)
	}
	p.Data, p.Run = "/d", ""
	if _, err := p.Abs(); err != nil {
		t.Fatalf("Abs with no runtime folder: %v", err)
	}
}

func TestPlanValidate(t *testing.T) {
	cases := map[string]func(p *Plan){
		"unknown OS":              func(p *Plan) { p.OS = "plan9" },
		"relative data":           func(p *Plan) { p.Paths.Data = "data" },
		"empty binary":            func(p *Plan) { p.Executable = "" },
		"percent in path":         func(p *Plan) { p.Paths.Logs = "/var/log/%n" },
		"template in path":        func(p *Plan) { p.Paths.Config = "/etc/{{Name}}.toml" },
		"newline in path":         func(p *Plan) { p.Paths.Data = "/var/lib/x\nUser=root" },
		"chown of /var":           func(p *Plan) { p.Paths.Data = "/var" },
		"chown of /var/lib":       func(p *Plan) { p.Paths.Logs = "/var/lib/" },
		"bad user":                func(p *Plan) { p.User = "Till Bridge" },
		"user without group":      func(p *Plan) { p.Group = "" },
		"zero restart":            func(p *Plan) { p.RestartSec = 0 },
		"bad service name":        func(p *Plan) { p.Name = "till bridge" },
		"backslash on linux path": func(p *Plan) { p.Paths.Data = `/var/lib/a\b` },
	}
	for name, mutate := range cases {
		p := linuxPlan(t)
		mutate(&p)
		if err := p.Validate(); !errors.Is(err, ErrInvalidPlan) {
			t.Errorf("%s: Validate = %v, want ErrInvalidPlan", name, err)
		}
	}
	w := windowsPlan(t)
	w.User = "tillbridge"
	if err := w.Validate(); !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), "LocalSystem") {
		t.Errorf("Windows plan with a user: %v", err)
	}
	w = windowsPlan(t)
	w.Recovery = nil
	if err := w.Validate(); !errors.Is(err, ErrInvalidPlan) {
		t.Errorf("Windows plan without recovery: %v", err)
	}
	if err := linuxPlan(t).Validate(); err != nil {
		t.Errorf("default linux plan: %v", err)
	}
	if err := windowsPlan(t).Validate(); err != nil {
		t.Errorf("default windows plan: %v", err)
	}
}

func TestParseSystemctlShow(t *testing.T) {
	cases := []struct {
		out  string
		want ServiceState
	}{
		{"LoadState=not-found\nActiveState=inactive\nSubState=dead\nNRestarts=0\n", ServiceState{State: StateNotInstalled, Restarts: -1}},
		{"LoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nNRestarts=3\nExecMainStatus=0\n",
			ServiceState{State: StateRunning, Detail: "active (running)", Restarts: 3}},
		{"LoadState=loaded\nActiveState=activating\nSubState=auto-restart\nNRestarts=1\n",
			ServiceState{State: StateRunning, Detail: "activating (auto-restart)", Restarts: 1}},
		{"LoadState=loaded\nActiveState=inactive\nSubState=dead\nNRestarts=0\n",
			ServiceState{State: StateStopped, Detail: "inactive (dead)", Restarts: 0}},
		{"LoadState=loaded\nActiveState=failed\nSubState=failed\nResult=start-limit-hit\nNRestarts=10\nExecMainStatus=1\n",
			ServiceState{State: StateFailed, Detail: "failed (Result=start-limit-hit, exit status 1)", Restarts: 10}},
	}
	for _, c := range cases {
		if got := parseSystemctlShow(c.out); got != c.want {
			t.Errorf("parse(%q) = %+v, want %+v", c.out, got, c.want)
		}
	}
}
