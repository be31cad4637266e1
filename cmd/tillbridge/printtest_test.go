package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrintTestCommand(t *testing.T) {
	tl := startTill(t)
	code, out, errOut := tl.cli("print-test", "--lane", "2")
	if code != exitOK || !strings.Contains(out, "printed the test page") {
		t.Fatalf("print-test: exit %d\n%s%s", code, out, errOut)
	}
	job, err := os.ReadFile(filepath.Join(tl.Dir, "receipts", "lane-2.escpos"))
	if err != nil || !strings.Contains(string(job), "tillbridge test print") {
		t.Fatalf("test page: %v", err)
	}
	if code, _, errOut := tl.cli("print-test"); code != exitUsage || !strings.Contains(errOut, "give --lane") {
		t.Fatalf("print-test without --lane on 2 lanes: exit %d %s", code, errOut)
	}
	if code, _, errOut := tl.cli("print-test", "--lane", "9"); code != exitFailure || !strings.Contains(errOut, `no lane "9"`) {
		t.Fatalf("print-test on an unknown lane: exit %d %s", code, errOut)
	}
}
