package installer

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

var sample = []byte("# placeholder sample configuration\n[daemon]\n")

func linuxPlan(t *testing.T) Plan {
	t.Helper()
	p := NewPlan("linux", DefaultPathsFor("linux", noEnv), "/usr/local/bin/tillbridge")
	p.USB = []USBID{{0x0416, 0x5011}, {0x05e0, 0x1200}}
	p.SampleConfig = sample
	return p
}

func windowsPlan(t *testing.T) Plan {
	t.Helper()
	p := NewPlan("windows", DefaultPathsFor("windows", noEnv), `C:\Program Files\tillbridge\tillbridge.exe`)
	p.SampleConfig = sample
	return p
}

func noEnv(string) string { return "" }

// wantInOrder fails unless every line of want appears in got, in order.
func wantInOrder(t *testing.T, got string, want ...string) {
	t.Helper()
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("missing (or out of order) %q in:\n%s", w, got)
		}
		rest = rest[i+len(w):]
	}
}

func TestInstallLinuxCreatesAccountFoldersConfigUdevAndUnit(t *testing.T) {
	h := newFakeHost()
	o, out := testOps(t, h)
	p := linuxPlan(t)
	if err := o.install(context.Background(), p); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	wantInOrder(t, h.log(),
		"run groupadd --system tillbridge",
		"run useradd --system --gid tillbridge --home-dir /var/lib/tillbridge --no-create-home --shell /usr/sbin/nologin --comment tillbridge service tillbridge",
		"mkdir /etc/tillbridge 0750", "chown /etc/tillbridge root:tillbridge recursive=false", "chmod /etc/tillbridge 0750",
		"mkdir /var/lib/tillbridge 0750", "chown /var/lib/tillbridge tillbridge:tillbridge recursive=true",
		"mkdir /var/log/tillbridge 0750", "chown /var/log/tillbridge tillbridge:tillbridge recursive=true",
		"create /etc/tillbridge/tillbridge.toml 0640", "chown /etc/tillbridge/tillbridge.toml root:tillbridge recursive=false",
		"write /etc/udev/rules.d/70-tillbridge.rules 0644",
		"run udevadm control --reload-rules", "run udevadm trigger",
		"service install tillbridge",
	)
	if got := string(h.files[p.Paths.Config]); got != string(sample) {
		t.Fatalf("config written = %q, want the sample", got)
	}
	if got, want := string(h.files[DefaultUdevRulesFile]), RenderUdevRules("tillbridge", p.USB); got != want {
		t.Fatalf("udev rules written:\n%s\nwant\n%s", got, want)
	}
	unit, _ := RenderSystemdUnit(p)
	if got := h.lastConfig.Option["SystemdScript"]; got != unit {
		t.Fatalf("unit handed to kardianos/service differs from the rendered unit:\n%v", got)
	}
	if !strings.Contains(out.String(), "Edit /etc/tillbridge/tillbridge.toml, then start the service: tillbridge start") {
		t.Fatalf("no next step in output:\n%s", out)
	}
}

func TestInstallKeepsExistingAccountAndConfig(t *testing.T) {
	h := newFakeHost()
	h.users["tillbridge"], h.groups["tillbridge"] = true, true
	p := linuxPlan(t)
	h.files[p.Paths.Config] = []byte("mine")
	o, out := testOps(t, h)
	if err := o.install(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.log(), "useradd") || strings.Contains(h.log(), "groupadd") {
		t.Fatalf("existing account re-created:\n%s", h.log())
	}
	if string(h.files[p.Paths.Config]) != "mine" {
		t.Fatal("existing configuration overwritten")
	}
	if !strings.Contains(out.String(), "owner root:tillbridge, mode 0640): exists, kept") {
		t.Fatalf("output does not say the config was kept:\n%s", out)
	}
}

func TestInstallRefusesAnInstalledService(t *testing.T) {
	h := newFakeHost()
	h.state = ServiceState{State: StateRunning}
	o, _ := testOps(t, h)
	err := o.install(context.Background(), linuxPlan(t))
	var exists *ExistsError
	if !errors.As(err, &exists) {
		t.Fatalf("install over an installed service: %v, want *ExistsError", err)
	}
	if !strings.Contains(err.Error(), "tillbridge uninstall") || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("message does not say what to do: %v", err)
	}
	if h.log() != "" {
		t.Fatalf("refused install touched the system:\n%s", h.log())
	}
}

func TestInstallUdevReloadFailureIsAWarningWithTheFix(t *testing.T) {
	h := newFakeHost()
	h.failRun["udevadm"] = errors.New("udevadm: not found")
	o, out := testOps(t, h)
	if err := o.install(context.Background(), linuxPlan(t)); err != nil {
		t.Fatalf("install failed on a udev reload error: %v", err)
	}
	wantInOrder(t, out.String(), "WARNING: udevadm: not found",
		"as root, run: udevadm control --reload-rules && udevadm trigger")
	if !strings.Contains(h.log(), "service install") {
		t.Fatal("service not installed after a udev warning")
	}
}

func TestInstallStopsAtAFailedStep(t *testing.T) {
	h := newFakeHost()
	h.failRun["useradd"] = errors.New("exit status 9")
	o, _ := testOps(t, h)
	err := o.install(context.Background(), linuxPlan(t))
	var step *StepError
	if !errors.As(err, &step) || !strings.Contains(step.Step, "create system user tillbridge") {
		t.Fatalf("install with a failing useradd: %v", err)
	}
	if strings.Contains(h.log(), "service install") {
		t.Fatal("service installed after a failed step")
	}
}

func TestInstallWithoutServiceAccountNeedsNoUdev(t *testing.T) {
	h := newFakeHost()
	p := linuxPlan(t)
	p.User, p.Group = "", ""
	o, out := testOps(t, h)
	if err := o.install(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.log(), "udev") || strings.Contains(h.log(), "useradd") {
		t.Fatalf("root install created an account or udev rules:\n%s", h.log())
	}
	wantInOrder(t, h.log(), "chown /var/lib/tillbridge root:root recursive=true")
	wantInOrder(t, out.String(), "udev rules: none needed (the service runs as root)")
}

func TestInstallWindowsRestrictsFoldersAndSetsRecovery(t *testing.T) {
	h := newFakeHost()
	p := windowsPlan(t)
	o, out := testOps(t, h)
	if err := o.install(context.Background(), p); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	wantInOrder(t, h.log(),
		`mkdir C:\ProgramData\tillbridge 0750`, `mkdir C:\ProgramData\tillbridge\data 0750`, `mkdir C:\ProgramData\tillbridge\logs 0750`,
		`acl C:\ProgramData\tillbridge `+WindowsACL,
		`create C:\ProgramData\tillbridge\tillbridge.toml 0600`,
		"service install tillbridge",
		"recovery tillbridge [{restart 5s} {restart 30s} {restart 1m0s}] reset=24h0m0s noncrash=true",
	)
	opt := h.lastConfig.Option
	if opt["StartType"] != "automatic" || opt["DelayedAutoStart"] != true || opt["OnFailure"] != "restart" ||
		opt["OnFailureDelayDuration"] != "5s" || opt["OnFailureResetPeriod"] != 86400 {
		t.Fatalf("kardianos options: %v", opt)
	}
	if h.lastConfig.EnvVars[EnvLogs] != `C:\ProgramData\tillbridge\logs` {
		t.Fatalf("service environment: %v", h.lastConfig.EnvVars)
	}
	if strings.Contains(h.log(), "chown") || strings.Contains(h.log(), "udev") {
		t.Fatalf("Linux steps in a Windows install:\n%s", h.log())
	}
}

func TestUninstallStopsWaitsAndKeepsData(t *testing.T) {
	h := newFakeHost()
	h.state = ServiceState{State: StateRunning}
	p := linuxPlan(t)
	h.files[p.UdevRulesFile] = []byte("rules")
	o, out := testOps(t, h)
	if err := o.uninstall(context.Background(), p); err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out)
	}
	wantInOrder(t, h.log(), "service stop", "service uninstall",
		"remove /etc/udev/rules.d/70-tillbridge.rules existed=true", "run udevadm control --reload-rules")
	if st, _ := h.status(context.Background(), ""); st.Installed() {
		t.Fatalf("uninstall returned while the service is still %s", st.State)
	}
	wantInOrder(t, out.String(), "Kept on purpose: /etc/tillbridge/tillbridge.toml, /var/lib/tillbridge (the payment journal), /var/log/tillbridge and the account tillbridge.")
}

func TestUninstallOfNothing(t *testing.T) {
	o, _ := testOps(t, newFakeHost())
	if err := o.uninstall(context.Background(), linuxPlan(t)); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("uninstall without a service: %v, want ErrNotInstalled", err)
	}
}

func TestStopIsBounded(t *testing.T) {
	h := newFakeHost()
	h.state, h.stuck = ServiceState{State: StateRunning}, true
	o, _ := testOps(t, h)
	o.stop = 20 * time.Millisecond
	err := o.stopService(context.Background(), "tillbridge")
	var te *TimeoutError
	if !errors.As(err, &te) || te.Want != "stopped" || te.Last.State != StateRunning {
		t.Fatalf("stop of a stuck service: %v, want *TimeoutError", err)
	}
}

func TestStartWaitsForRunningAndReportsFailure(t *testing.T) {
	h := newFakeHost()
	h.state = ServiceState{State: StateStopped}
	o, _ := testOps(t, h)
	if err := o.startService(context.Background(), "tillbridge"); err != nil {
		t.Fatal(err)
	}
	if h.state.State != StateRunning {
		t.Fatalf("start returned in state %s", h.state.State)
	}
	h2 := newFakeHost()
	h2.state, h2.startTo = ServiceState{State: StateStopped}, StateFailed
	o2, _ := testOps(t, h2)
	if err := o2.startService(context.Background(), "tillbridge"); err == nil || !strings.Contains(err.Error(), "failed to start") {
		t.Fatalf("start into failure: %v", err)
	}
}

func TestStartAfterStartLimitResetsFailedState(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("systemd reset-failed is Linux only")
	}
	h := newFakeHost()
	h.state, h.lagEach = ServiceState{State: StateFailed}, 0 // systemctl start returns once started
	o, _ := testOps(t, h)
	if err := o.startService(context.Background(), "tillbridge"); err != nil {
		t.Fatal(err)
	}
	wantInOrder(t, h.log(), "run systemctl reset-failed tillbridge.service", "service start")
}

func TestControlNeedsAnInstalledService(t *testing.T) {
	o, _ := testOps(t, newFakeHost())
	for name, fn := range map[string]func(context.Context, string) error{"start": o.startService, "stop": o.stopService} {
		if err := fn(context.Background(), "tillbridge"); !errors.Is(err, ErrNotInstalled) {
			t.Errorf("%s without a service: %v, want ErrNotInstalled", name, err)
		}
	}
}

func TestInstallUdevOnly(t *testing.T) {
	h := newFakeHost()
	o, _ := testOps(t, h)
	if err := o.installUdev(context.Background(), linuxPlan(t)); err != nil {
		t.Fatal(err)
	}
	if got := h.log(); strings.Contains(got, "service") || !strings.Contains(got, "write /etc/udev/rules.d/70-tillbridge.rules") {
		t.Fatalf("udev-only did:\n%s", got)
	}
	p := linuxPlan(t)
	p.USB = nil
	if err := o.installUdev(context.Background(), p); !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("udev-only without devices: %v", err)
	}
}
