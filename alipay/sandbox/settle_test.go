package sandbox_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// TestSettlementWeekendRule: reference §10.1 — Friday 00:00 to Sunday
// 23:59 is settled on Monday, any other day on the next one, and nothing
// on Saturday or Sunday (no settlement file is written for them).
func TestSettlementWeekendRule(t *testing.T) {
	e := newEnv(t, nil) // 12:00 Beijing, Wednesday 2024-01-10
	e.pay("WED-1", 0, "1.00")
	e.clock.Advance(2 * 24 * time.Hour) // Friday 12:00
	e.pay("FRI-1", 0, "2.00")
	e.clock.Advance(24 * time.Hour) // Saturday
	e.pay("SAT-1", 0, "3.00")
	e.clock.Advance(24 * time.Hour) // Sunday
	e.pay("SUN-1", 0, "4.00")
	e.clock.Advance(24 * time.Hour) // Monday
	e.pay("MON-1", 0, "5.00")

	bj := time.FixedZone("GMT+8", 8*3600)
	settled := func(y, m, d int) string {
		var b strings.Builder
		if err := e.sb.WriteSettlementFile(&b, time.Date(y, time.Month(m), d, 9, 0, 0, 0, bj)); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
			ids = append(ids, strings.SplitN(l, "|", 2)[0])
		}
		return strings.Join(ids, ",")
	}
	for _, c := range []struct {
		day  int
		want string
	}{
		{11, "WED-1"},             // Thursday settles Wednesday
		{12, ""},                  // Friday: nothing paid on Thursday
		{13, ""},                  // Saturday settles nothing
		{14, ""},                  // Sunday settles nothing
		{15, "FRI-1,SAT-1,SUN-1"}, // Monday settles Friday to Sunday
		{16, "MON-1"},             // Tuesday settles Monday
	} {
		if got := settled(2024, 1, c.day); got != c.want {
			t.Errorf("settlement of 2024-01-%d lists %q, want %q", c.day, got, c.want)
		}
	}

	dir := t.TempDir()
	paths, err := e.sb.WriteFiles(dir, time.Date(2024, 1, 13, 12, 0, 0, 0, bj))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || !strings.Contains(paths[0], "_transaction_20240113") {
		t.Fatalf("Saturday: wrote %v, want the transaction file only", paths)
	}
	if _, err := os.Stat(filepath.Join(dir, sandbox.SettlementFileName(e.sb.Partner(), time.Date(2024, 1, 13, 0, 0, 0, 0, bj)))); !os.IsNotExist(err) {
		t.Fatalf("a Saturday settlement file exists: %v", err)
	}
	if paths, err = e.sb.WriteFiles(dir, time.Date(2024, 1, 15, 12, 0, 0, 0, bj)); err != nil || len(paths) != 2 {
		t.Fatalf("Monday: wrote %v (%v), want both files", paths, err)
	}
}
