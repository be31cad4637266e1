package installer

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnitHardening: the unit makes the whole file system read-only
// to the daemon except its data and log folders (so it cannot write its
// own configuration, binary or keys), hides home folders, drops every
// capability and limits socket families and system calls.
func TestSystemdUnitHardening(t *testing.T) {
	unit, err := RenderSystemdUnit(linuxPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	svc := unitSections(unit)["Service"]
	for _, l := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict",
		"ReadWritePaths=/var/lib/tillbridge /var/log/tillbridge", "ProtectHome=yes", "PrivateTmp=yes",
		"CapabilityBoundingSet=", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
		"SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM", "UMask=0027"} {
		if !svc[l] {
			t.Errorf("[Service] lacks %q", l)
		}
	}
	for _, bad := range []string{"ProtectSystem=full", "PrivateDevices=", "/etc/tillbridge "} {
		for l := range svc {
			if strings.HasPrefix(l, bad) || (strings.HasPrefix(l, "ReadWritePaths=") && strings.Contains(l+" ", bad)) {
				t.Errorf("[Service] has %q", l)
			}
		}
	}

	// A runtime folder systemd does not create is writable too; the
	// configuration folder never is.
	p := linuxPlan(t)
	p.Paths = Paths{Config: "/opt/tb/etc/tb.toml", Data: "/srv/tb/data", Logs: "/srv/tb/logs", Run: "/srv/tb/run"}
	unit, err = RenderSystemdUnit(p)
	if err != nil {
		t.Fatal(err)
	}
	if !unitSections(unit)["Service"]["ReadWritePaths=/srv/tb/data /srv/tb/logs /srv/tb/run"] {
		t.Errorf("custom paths: ReadWritePaths wrong:\n%s", unit)
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the rendered unit:
// systemd itself must know every directive and accept every value.
func TestSystemdUnitVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed here: the unit's directives are not verified by systemd (install the systemd package to run this test)")
	}
	exe, err := os.Executable() // ExecStart must name an existing executable
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlan("linux", DefaultPathsFor("linux", noEnv), exe)
	unit, err := RenderSystemdUnit(p)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), p.Name+".service")
	if err := os.WriteFile(file, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(context.Background(), sa, "verify", file).CombinedOutput()
	// verify exits 0 on unknown keys and bad values, but says so naming
	// the file: any line about our file is a failure.
	var complaints []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, file) {
			complaints = append(complaints, l)
		}
	}
	if err != nil || len(complaints) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, strings.Join(complaints, "\n"), unit)
	}
}

// TestPlanRefusesHomeFolders: ProtectHome=yes hides /home, /root and
// /run/user from the service.
func TestPlanRefusesHomeFolders(t *testing.T) {
	for _, mut := range []func(*Plan){
		func(p *Plan) { p.Executable = "/home/ops/tillbridge" },
		func(p *Plan) { p.Paths.Config = "/root/tb.toml" },
		func(p *Plan) { p.Paths.Data = "/home/tb/data" },
	} {
		p := linuxPlan(t)
		mut(&p)
		if err := p.Validate(); !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), "ProtectHome") {
			t.Errorf("%+v: %v", p.Paths, err)
		}
	}
}

// TestInstallRefusesUntrustedPaths: a trust failure stops the install
// before it touches anything.
func TestInstallRefusesUntrustedPaths(t *testing.T) {
	h := newFakeHost()
	h.trustErr = &UntrustedPathError{Path: "/opt/x", For: "binary /opt/x/tillbridge", Problem: "is writable", Fix: "chmod go-w /opt/x"}
	o, _ := testOps(t, h)
	err := o.install(context.Background(), linuxPlan(t))
	if !errors.Is(err, ErrUntrustedPath) {
		t.Fatalf("install: %v, want ErrUntrustedPath", err)
	}
	if h.log() != "" {
		t.Fatalf("refused install touched the system:\n%s", h.log())
	}
}
