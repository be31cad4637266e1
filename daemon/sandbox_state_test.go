package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tillbridge/tillbridge/daemon"
)

// TestStartSandbox_ImportsLegacyJSONState: a data directory of an earlier
// version holds the sandbox state as JSON; the first start imports it into
// the SQLite state file, later starts read only that.
func TestStartSandbox_ImportsLegacyJSONState(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "alipay", "sandbox", "testdata", "state-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	legacy := filepath.Join(dir, daemon.SandboxLegacyStateFile)
	if err := os.WriteFile(legacy, b, 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() int {
		t.Helper()
		sb, err := daemon.StartSandbox(daemon.SandboxOptions{DataDir: dir, ECRListen: "127.0.0.1:0",
			SandboxListen: "127.0.0.1:0", Lanes: 1})
		if err != nil {
			t.Fatalf("StartSandbox: %v", err)
		}
		n := len(sb.Server().Trades())
		if err := sb.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		return n
	}
	if n := start(); n != 3 {
		t.Fatalf("first start: %d trades, want the 3 of the JSON file", n)
	}
	if _, err := os.Stat(filepath.Join(dir, daemon.SandboxStateFile)); err != nil {
		t.Fatalf("no SQLite state file: %v", err)
	}
	if err := os.WriteFile(legacy, []byte(`{"version":1,"seq":0,"trades":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := start(); n != 3 {
		t.Errorf("second start: %d trades, want 3 (imported once)", n)
	}
}
