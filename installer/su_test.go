//go:build su && linux

// The su test really installs, starts, stops and removes a service. It needs
// root and a machine (or VM, or systemd container) where systemd is PID 1:
//
//	go test -c -tags su -o /tmp/installer-su.test ./installer/
//	sudo /tmp/installer-su.test -test.run TestSu -test.v
//
// It uses its own names (service tillbridge-sutest, account tbsutest,
// folders *-sutest), so it never touches a real tillbridge install, and it
// removes everything it created. The test binary doubles as the service:
// started with "run ...", TestMain runs it through RunService.

package installer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/internal/testenv"
)

const (
	suName   = "tillbridge-sutest"
	suUser   = "tbsutest"
	suBinDir = "/opt/tillbridge-sutest"
	suReport = "su-report.txt"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "run" {
		os.Exit(serveForSuTest(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// serveForSuTest is the service side: it appends "started" and "stopped"
// to the report in its data folder.
func serveForSuTest(args []string) int {
	data := ""
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--data" {
			data = args[i+1]
		}
	}
	report := func(s string) {
		f, err := os.OpenFile(filepath.Join(data, suReport), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, s)
			f.Close()
		}
	}
	err := RunService(context.Background(), suName, func(ctx context.Context) error {
		report("started")
		<-ctx.Done()
		report("stopped")
		return ctx.Err()
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func suPlan(t *testing.T) Plan {
	t.Helper()
	paths := Paths{Config: "/etc/" + suName + "/tillbridge.toml", Data: "/var/lib/" + suName,
		Logs: "/var/log/" + suName, Run: "/run/" + suName}
	p := NewPlan("linux", paths, filepath.Join(suBinDir, "tillbridge"))
	p.Name, p.User, p.Group = suName, suUser, suUser
	p.UdevRulesFile = "/etc/udev/rules.d/70-" + suName + ".rules"
	p.SampleConfig = []byte("# su test\n")
	return p
}

func requireSystemdRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the su test needs root: sudo /tmp/installer-su.test -test.run TestSu -test.v")
	}
	if comm, _ := os.ReadFile("/proc/1/comm"); strings.TrimSpace(string(comm)) != "systemd" {
		t.Skipf("systemd is not PID 1 here (PID 1 is %q): run the su test on a machine, VM or systemd container", strings.TrimSpace(string(comm)))
	}
}

func TestSuInstallStartStopUninstall(t *testing.T) {
	requireSystemdRoot(t)
	ctx := context.Background()
	p := suPlan(t)
	if st, _ := ServiceStatus(ctx, p.Name); st.Installed() {
		t.Fatalf("%s is already installed: remove it first (systemctl disable --now %s)", p.Name, p.Name)
	}
	copySelf(t, p.Executable)
	t.Cleanup(func() { cleanupSu(t, p) })

	out := testWriter{t}
	if err := Install(ctx, p, out); err != nil {
		t.Fatalf("install: %v", err)
	}
	wantState(t, p.Name, StateStopped)
	var exists *ExistsError
	if err := Install(ctx, p, out); !errors.As(err, &exists) {
		t.Fatalf("second install: %v, want *ExistsError", err)
	}
	checkOwner(t, p.Paths.Data, suUser)

	if err := Start(ctx, p.Name); err != nil {
		t.Fatalf("start: %v", err)
	}
	wantState(t, p.Name, StateRunning)
	waitReport(t, p, "started")
	if err := Stop(ctx, p.Name); err != nil {
		t.Fatalf("stop: %v", err)
	}
	wantState(t, p.Name, StateStopped)
	waitReport(t, p, "started\nstopped")

	if err := Start(ctx, p.Name); err != nil {
		t.Fatalf("second start: %v", err)
	}
	waitReport(t, p, "started\nstopped\nstarted")
	if err := Uninstall(ctx, p, out); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	wantState(t, p.Name, StateNotInstalled)
	waitReport(t, p, "started\nstopped\nstarted\nstopped")
	if _, err := os.Stat(p.SystemdUnitPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unit file left behind: %v", err)
	}
	if _, err := os.Stat(p.Paths.Data); err != nil {
		t.Fatalf("uninstall removed the data folder: %v", err)
	}
}

// copySelf installs this test binary where the service can run it (not
// under /tmp: the unit has PrivateTmp=yes).
func copySelf(t *testing.T, dst string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func wantState(t *testing.T, name string, want State) {
	t.Helper()
	st, err := ServiceStatus(context.Background(), name)
	if err != nil || st.State != want {
		t.Fatalf("state %+v (%v), want %s", st, err, want)
	}
}

// waitReport waits (bounded) until the service's report reads want.
func waitReport(t *testing.T, p Plan, want string) {
	t.Helper()
	testenv.WaitFor(t, 15*time.Second, func() bool {
		got, _ := os.ReadFile(filepath.Join(p.Paths.Data, suReport))
		return strings.TrimSpace(string(got)) == want
	}, fmt.Sprintf("the service report reading %q", want))
}

func checkOwner(t *testing.T, path, user string) {
	t.Helper()
	out, err := exec.Command("stat", "-c", "%U %a", path).Output()
	if err != nil || strings.TrimSpace(string(out)) != user+" 750" {
		t.Fatalf("%s: owner and mode %q (%v), want %s 750", path, out, err, user)
	}
}

// cleanupSu removes everything the test created.
func cleanupSu(t *testing.T, p Plan) {
	exec.Command("systemctl", "disable", "--now", p.Name+".service").Run()
	os.Remove(p.SystemdUnitPath())
	exec.Command("systemctl", "daemon-reload").Run()
	for _, d := range []string{filepath.Dir(p.Paths.Config), p.Paths.Data, p.Paths.Logs, suBinDir} {
		os.RemoveAll(d)
	}
	exec.Command("userdel", suUser).Run()
	exec.Command("groupdel", suUser).Run()
}

// testWriter sends install progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
