package soak

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildBinary builds cmd/tillbridge into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tillbridge")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tillbridge/tillbridge/cmd/tillbridge").CombinedOutput()
	if err != nil {
		t.Fatalf("build tillbridge: %v\n%s", err, out)
	}
	return bin
}

// TestRunWithEveryChaosSwitch drives a real daemon subprocess through a
// small soak with faults, kills and drops, and expects every check to
// pass with work actually done under chaos.
func TestRunWithEveryChaosSwitch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	cfg := ShortConfig()
	cfg.Bin = buildBinary(t)
	cfg.Lanes, cfg.Sales, cfg.Duration = 3, 12, 40*time.Second
	cfg.Chaos.FaultEvery, cfg.Chaos.KillEvery, cfg.DropRate = 500*time.Millisecond, 1500*time.Millisecond, 0.3
	var progress bytes.Buffer
	cfg.Progress, cfg.ProgressEvery = &progress, time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Passed() {
		t.Fatalf("violations:\n%s", text.String())
	}
	if rep.SalesDone != 36 || rep.Kills == 0 || rep.Faults == 0 {
		t.Errorf("sales %d kills %d faults %d: want 36 sales under kills and faults\n%s", rep.SalesDone, rep.Kills, rep.Faults, text.String())
	}
	for _, c := range rep.Verdict.Checks {
		if c.Count == 0 && c.Name != CheckRefunds {
			t.Errorf("check %q looked at nothing", c.Name)
		}
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if last := lines[len(lines)-1]; last != "7 passed, 0 failed" {
		t.Errorf("last line %q, want %q", last, "7 passed, 0 failed")
	}
	if !strings.Contains(progress.String(), "soak ") {
		t.Errorf("no progress line in %q", progress.String())
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix(DefaultMix)
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != DefaultMix {
		t.Errorf("round trip %q", m.String())
	}
	for _, bad := range []string{"", "00", "0:5", "aa:5", "00:-1", "00:x", "00:1,00:2"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

// TestMixPickRates draws many codes with a fixed seed and checks each
// code's share is near its weight.
func TestMixPickRates(t *testing.T) {
	m, _ := ParseMix("00:70,11:20,35:10")
	r := rand.New(rand.NewPCG(7, 7))
	n := map[string]int{}
	const draws = 20000
	for range draws {
		n[m.Pick(r)]++
	}
	for code, want := range map[string]float64{"00": 0.7, "11": 0.2, "35": 0.1} {
		if got := float64(n[code]) / draws; got < want-0.02 || got > want+0.02 {
			t.Errorf("code %s drawn %.3f of the time, want about %.2f", code, got, want)
		}
	}
}

func TestBuyerCode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 100 {
		c := BuyerCode(r, "31")
		if len(c) != 18 || !strings.HasPrefix(c, "28") || !strings.HasSuffix(c, "31") {
			t.Fatalf("code %q: want 18 digits, 28…31", c)
		}
	}
	if Class("05") != "00 paid" || Class("35") != "35 slow pay" {
		t.Errorf("classes %q %q", Class("05"), Class("35"))
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := summarize("x", ds)
	if l.N != 100 || l.P50 != 50*time.Millisecond || l.P90 != 90*time.Millisecond || l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond {
		t.Errorf("%+v", l)
	}
}

func TestOwnTradesKeepsThisRun(t *testing.T) {
	all := []Trade{{PartnerTransID: "A", TransName: Subject("run1", "1", "run1-0")},
		{PartnerTransID: "B", TransName: Subject("run2", "1", "run2-0")},
		{PartnerTransID: "C", TransName: "Tickets"}}
	got := ownTrades(all, []Op{{PartnerTransID: "C"}}, "run1")
	if len(got) != 2 || got[0].PartnerTransID != "A" || got[1].PartnerTransID != "C" {
		t.Errorf("kept %+v, want A (by subject) and C (by journal)", got)
	}
}
