package installer

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

func TestSystemdUnitGolden(t *testing.T) {
	unit, err := RenderSystemdUnit(linuxPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "tillbridge.service", unit)
}

func TestSystemdUnitSettings(t *testing.T) {
	unit, err := RenderSystemdUnit(linuxPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	sections := unitSections(unit)
	for section, lines := range map[string][]string{
		"Unit": {"After=network-online.target", "Wants=network-online.target",
			"StartLimitIntervalSec=600s", "StartLimitBurst=10"},
		"Service": {"ExecStart=/usr/local/bin/tillbridge run --config /etc/tillbridge/tillbridge.toml --data /var/lib/tillbridge",
			"Environment=TILLBRIDGE_LOGS=/var/log/tillbridge", "Environment=TILLBRIDGE_RUN=/run/tillbridge",
			"User=tillbridge", "Group=tillbridge", "WorkingDirectory=/var/lib/tillbridge",
			"RuntimeDirectory=tillbridge", "Restart=on-failure", "RestartSec=5s", "LimitNOFILE=8192", "TimeoutStopSec=30s"},
		"Install": {"WantedBy=multi-user.target"},
	} {
		for _, l := range lines {
			if !sections[section][l] {
				t.Errorf("[%s] lacks %q", section, l)
			}
		}
	}
	if sections["Service"]["StartLimitIntervalSec=600s"] {
		t.Error("the start limit belongs in [Unit], where systemd reads it")
	}
}

// unitSections maps each [Section] of a unit to its lines.
func unitSections(unit string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	cur := ""
	for _, l := range strings.Split(unit, "\n") {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			cur = strings.Trim(l, "[]")
			out[cur] = map[string]bool{}
		} else if cur != "" && l != "" {
			out[cur][l] = true
		}
	}
	return out
}

func TestSystemdUnitAsRootAndCustomPaths(t *testing.T) {
	p := linuxPlan(t)
	p.User, p.Group = "", ""
	p.Paths = Paths{Config: "/opt/till bridge/tb.toml", Data: "/srv/tb/data", Logs: "/srv/tb/logs", Run: "/srv/tb/run"}
	unit, err := RenderSystemdUnit(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"User=", "Group=", "RuntimeDirectory="} {
		if strings.Contains(unit, bad) {
			t.Errorf("unit has %q:\n%s", bad, unit)
		}
	}
	if !strings.Contains(unit, `ExecStart=/usr/local/bin/tillbridge run --config "/opt/till bridge/tb.toml" --data /srv/tb/data`) {
		t.Errorf("a path with a space is not quoted:\n%s", unit)
	}
}

func TestSystemdQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/x": "/usr/bin/x", "a b": `"a b"`, `x"y`: `"x\"y"`, "50%": "50%%", "$HOME": "$$HOME",
	} {
		if got := systemdQuote(in); got != want {
			t.Errorf("systemdQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWindowsSettings(t *testing.T) {
	w, err := WindowsSettings(windowsPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []RecoveryAction{{"restart", 5 * time.Second}, {"restart", 30 * time.Second}, {"restart", 60 * time.Second}}
	if len(w.Recovery) != len(want) {
		t.Fatalf("recovery %v, want %v", w.Recovery, want)
	}
	for i := range want {
		if w.Recovery[i] != want[i] {
			t.Fatalf("recovery %v, want %v", w.Recovery, want)
		}
	}
	if w.ResetPeriod != 24*time.Hour || !w.RecoveryOnNonCrashFailures || w.StartType != "automatic" ||
		!w.DelayedAutoStart || w.Account != "LocalSystem" || w.EventSource != "tillbridge" {
		t.Fatalf("settings: %+v", w)
	}
	if got, want := w.CommandLine(), `"C:\Program Files\tillbridge\tillbridge.exe" run --config C:\ProgramData\tillbridge\tillbridge.toml --data C:\ProgramData\tillbridge\data`; got != want {
		t.Fatalf("command line\n%s\nwant\n%s", got, want)
	}
	if got := strings.Join(w.ACLFolders, "|"); got != `C:\ProgramData\tillbridge|C:\ProgramData\tillbridge\data|C:\ProgramData\tillbridge\logs` {
		t.Fatalf("ACL folders %s", got)
	}
	golden(t, "windows-service.txt", w.Text())
}

func TestWindowsSettingsRefuseRelativeOrLinuxPaths(t *testing.T) {
	p := windowsPlan(t)
	p.Paths.Data = `tillbridge\data`
	if _, err := WindowsSettings(p); !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), "system32") {
		t.Fatalf("relative Windows path: %v", err)
	}
	if _, err := WindowsSettings(linuxPlan(t)); !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("Windows settings of a Linux plan: %v", err)
	}
}

func TestUdevRulesGolden(t *testing.T) {
	ids, err := ParseUSBIDs("0416:5011, 0x05E0:0x1200,0416:5011")
	if err != nil {
		t.Fatal(err)
	}
	rules := RenderUdevRules("tillbridge", ids)
	golden(t, "70-tillbridge.rules", rules)
	if n := strings.Count(rules, `GROUP="tillbridge", MODE="0660"`); n != 2*len(udevMatches()) {
		t.Fatalf("%d rules, want %d (duplicates removed)", n, 2*len(udevMatches()))
	}
}

func TestParseUSBID(t *testing.T) {
	good := map[string]USBID{"0416:5011": {0x0416, 0x5011}, "0x5E0:0X1200": {0x05e0, 0x1200}, " 1a86:7523 ": {0x1a86, 0x7523}}
	for in, want := range good {
		if got, err := ParseUSBID(in); err != nil || got != want {
			t.Errorf("ParseUSBID(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0416", "0416:", "zzzz:0001", "12345:0001", "0000:0001", "0416:5011:1"} {
		if _, err := ParseUSBID(in); !errors.Is(err, ErrBadUSBID) {
			t.Errorf("ParseUSBID(%q) = %v, want ErrBadUSBID", in, err)
		}
	}
}

func TestDryRunLinuxShowsEveryFileAndSetting(t *testing.T) {
	var out bytes.Buffer
	p := linuxPlan(t)
	if err := DryRun(&out, p); err != nil {
		t.Fatal(err)
	}
	unit, _ := RenderSystemdUnit(p)
	wantInOrder(t, out.String(),
		"nothing is changed",
		"groupadd --system tillbridge", "useradd --system",
		"create folder /etc/tillbridge if missing; owner root:tillbridge, mode 0750",
		"create folder /var/lib/tillbridge if missing; owner tillbridge:tillbridge (recursively), mode 0750",
		"create folder /var/log/tillbridge if missing; owner tillbridge:tillbridge (recursively), mode 0750",
		"runtime folder /run/tillbridge",
		"sample configuration as /etc/tillbridge/tillbridge.toml if no file is there (never overwritten",
		"write udev rules /etc/udev/rules.d/70-tillbridge.rules", RenderUdevRules("tillbridge", p.USB),
		"reload udev: udevadm control --reload-rules && udevadm trigger",
		"install systemd unit /etc/systemd/system/tillbridge.service", unit,
	)
}

func TestDryRunWindowsShowsSCMSettingsAndRecovery(t *testing.T) {
	var out bytes.Buffer
	p := windowsPlan(t)
	if err := DryRun(&out, p); err != nil {
		t.Fatal(err)
	}
	w, _ := WindowsSettings(p)
	wantInOrder(t, out.String(),
		`create folder C:\ProgramData\tillbridge\data if missing`,
		"restrict", "SDDL "+WindowsACL,
		`sample configuration as C:\ProgramData\tillbridge\tillbridge.toml`,
		"create Windows service tillbridge", w.Text(),
		"restart after 5s, 30s, 60s; failure count reset after 1 day; also when the service stops with an error",
	)
}

func TestDryRunRefusesAnInvalidPlan(t *testing.T) {
	p := linuxPlan(t)
	p.Paths.Data = "/"
	if err := DryRun(&bytes.Buffer{}, p); !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("dry run with data /: %v", err)
	}
}
