package main

import (
	"os"
	"strings"
	"testing"
)

func TestInstallDryRunLinux(t *testing.T) {
	code, out, errOut := run(t, "install", "--dry-run", "--os", "linux", "--bin", "/usr/local/bin/tillbridge",
		"--usb", "1a86:7523", "--config", "/etc/tillbridge/tillbridge.toml", "--data", "/var/lib/tillbridge", "--logs", "/var/log/tillbridge")
	if code != exitOK {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	for _, want := range []string{
		"ExecStart=/usr/local/bin/tillbridge run --config /etc/tillbridge/tillbridge.toml --data /var/lib/tillbridge",
		"Restart=on-failure", "StartLimitBurst=", "LimitNOFILE=", "User=tillbridge",
		`ATTR{idVendor}=="1a86", ATTR{idProduct}=="7523", GROUP="tillbridge"`,
		"/etc/udev/rules.d/70-tillbridge.rules",
		"sample configuration as /etc/tillbridge/tillbridge.toml",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q", want)
		}
	}
}

func TestInstallDryRunWindowsFromAnyHost(t *testing.T) {
	code, out, errOut := run(t, "install", "--dry-run", "--os", "windows")
	if code != exitOK {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	for _, want := range []string{
		`C:\ProgramData\tillbridge\tillbridge.toml`, "automatic (delayed start)",
		"restart the service after 5s", "restart the service after 30s", "restart the service after 60s",
		"Reset fail count after:         1 day",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Windows dry run lacks %q:\n%s", want, out)
		}
	}
}

func TestInstallUsageErrors(t *testing.T) {
	cases := [][]string{
		{"install", "--os", "windows"},            // a foreign OS needs --dry-run
		{"install", "--dry-run", "--usb", "nope"}, // bad VID:PID
		{"install", "--dry-run", "--os", "linux", "--bin", "/x/tb", "--data", "/"},
		{"install", "extra"},
		{"uninstall", "extra"},
		{"start", "extra"},
	}
	for _, args := range cases {
		if code, _, errOut := run(t, args...); code != exitUsage {
			t.Errorf("%v: code %d, want %d (stderr %s)", args, code, exitUsage, errOut)
		}
	}
}

func TestInstallRefusesAGoRunBinary(t *testing.T) {
	// The test binary lives in a go-build folder, like a `go run` build.
	if exe, _ := os.Executable(); !strings.Contains(exe, "go-build") {
		t.Skip("test binary not in a go-build folder")
	}
	code, _, errOut := run(t, "install", "--dry-run")
	if code != exitUsage || !strings.Contains(errOut, "temporary `go run` build") {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
}

func TestServiceCommandsAreListed(t *testing.T) {
	_, out, _ := run(t, "help")
	for _, name := range []string{"install", "uninstall", "start", "stop", "restart"} {
		if !strings.Contains(out, "  "+name+" ") {
			t.Errorf("help lacks %s:\n%s", name, out)
		}
	}
}
