package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/internal/soak"
)

func soakConfig(t *testing.T, args ...string) (soak.Config, error) {
	t.Helper()
	var f soakFlags
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.config()
}

func TestSoakChaosSwitches(t *testing.T) {
	cases := []struct {
		args                 []string
		faults, kills, drops bool
	}{
		{nil, true, true, true},
		{[]string{"--chaos-kill"}, false, true, false},
		{[]string{"--chaos-faults", "--chaos-drop"}, true, false, true},
		{[]string{"--chaos-faults=false"}, false, true, true},
		{[]string{"--chaos-faults=false", "--chaos-kill=false", "--chaos-drop=false"}, false, false, false},
		{[]string{"--short", "--chaos-drop=false"}, true, true, false},
	}
	for _, tc := range cases {
		cfg, err := soakConfig(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		c := cfg.Chaos
		if c.Faults != tc.faults || c.Kills != tc.kills || c.Drops != tc.drops {
			t.Errorf("%v: faults %v kills %v drops %v, want %v %v %v", tc.args, c.Faults, c.Kills, c.Drops, tc.faults, tc.kills, tc.drops)
		}
	}
}

func TestSoakFlagsOverrideProfiles(t *testing.T) {
	cfg, err := soakConfig(t, "--short", "--lanes", "3", "--sales", "7", "--refund-rate", "0.5", "--seed", "9")
	if err != nil {
		t.Fatal(err)
	}
	short := soak.ShortConfig()
	if cfg.Lanes != 3 || cfg.Sales != 7 || cfg.RefundRate != 0.5 || cfg.Seed != 9 || cfg.Duration != short.Duration {
		t.Errorf("got lanes %d sales %d refund %v seed %d duration %v", cfg.Lanes, cfg.Sales, cfg.RefundRate, cfg.Seed, cfg.Duration)
	}
	if cfg.Bin == "" {
		t.Error("no binary to spawn: want this executable")
	}
	def, err := soakConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	if def.Lanes != 20 || def.Duration != soak.DefaultConfig().Duration {
		t.Errorf("default: lanes %d duration %v", def.Lanes, def.Duration)
	}
}

func TestSoakAttachTurnsKillsOff(t *testing.T) {
	cfg, err := soakConfig(t, "--attach", "127.0.0.1:7420", "--sandbox-url", "http://127.0.0.1:7430", "--data", "/tmp/x")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Attach == nil || cfg.Chaos.Kills {
		t.Errorf("attach %+v kills %v: an attached daemon cannot be restarted", cfg.Attach, cfg.Chaos.Kills)
	}
}

func TestSoakUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"soak", "--mix", "00:70,1x:5"},
		{"soak", "--mix", "00:0"},
		{"soak", "--attach", "127.0.0.1:7420"}, // no sandbox URL or data dir
		{"soak", "--refund-rate", "1.5"},
		{"soak", "extra"},
	} {
		code, _, errOut := run(t, args...)
		if code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d (%q), want %d with a message", args, code, errOut, exitUsage)
		}
	}
}

func TestHelpListsSoak(t *testing.T) {
	_, out, _ := run(t, "help")
	if !strings.Contains(out, "\n  soak ") {
		t.Fatalf("help does not list soak (make test looks for it):\n%s", out)
	}
}

// TestSoakNoDaemonEndsWithCountLine: a run that cannot be carried out
// still ends stdout with the line CI reads, and exits 3 when the attached
// daemon is not there.
func TestSoakNoDaemonEndsWithCountLine(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10 s for a daemon that never comes")
	}
	code, out, errOut := run(t, "soak", "--attach", "127.0.0.1:1", "--sandbox-url", "http://127.0.0.1:1", "--data", t.TempDir())
	if code != exitNoDaemon || !strings.HasSuffix(out, "0 passed, 1 failed\n") || !strings.Contains(errOut, "no ready daemon") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
