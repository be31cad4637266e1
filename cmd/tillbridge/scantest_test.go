package main

import (
	"strings"
	"testing"
)

func TestScanTestCommand(t *testing.T) {
	tl := startTill(t)
	code, out, errOut := tl.cli("scan-test", "--lane", "1", "--timeout", "100ms")
	if code != exitFailure || !strings.Contains(out, "nothing was scanned in 100ms") {
		t.Fatalf("scan-test with nothing scanned: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := tl.cli("scan-test", "--timeout", "10m"); code != exitUsage || !strings.Contains(errOut, "--timeout") {
		t.Fatalf("scan-test --timeout 10m: exit %d %s", code, errOut)
	}
}
