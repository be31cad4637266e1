package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJournalExportCommand(t *testing.T) {
	tl := startTill(t)
	tl.sale("1", "J-1", "281234567890120001")
	out := filepath.Join(t.TempDir(), "day.csv")
	today := time.Now().Format(time.DateOnly)
	code, stdout, errOut := tl.cli("journal", "export", "--from", today, "--to", today, "--csv", "--out", out)
	if code != exitOK {
		t.Fatalf("journal export: exit %d\n%s%s", code, stdout, errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][3] != "J-1" || rows[1][5] != "paid" || rows[1][13] != "**************0001" {
		t.Fatalf("export: %v %q", err, rows)
	}
	code, stdout, _ = tl.cli("journal", "export", "--from", "24h")
	if code != exitOK || !strings.HasPrefix(strings.TrimSpace(stdout), "[") || !strings.Contains(stdout, "J-1") {
		t.Fatalf("journal export json: exit %d\n%s", code, stdout)
	}
	for _, args := range [][]string{{"journal", "export"}, {"journal", "export", "--from", "2026-03-02", "--to", "2026-03-01"}, {"journal"}} {
		if code, _, _ := tl.cli(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestExportRangeIncludesTheLastDay(t *testing.T) {
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.Local)
	start, end, err := exportRange("2026-03-01", "2026-03-04", now)
	if err != nil || !start.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)) ||
		!end.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, time.Local)) {
		t.Fatalf("range: %v %v %v", start, end, err)
	}
}
