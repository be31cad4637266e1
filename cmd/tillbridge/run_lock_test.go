package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/daemon/datalock"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// TestRunProductionDataDirInUse: `tillbridge run --config FILE` on a data
// folder whose lock is held exits with code 5 and names the holder; the
// journal is never created. (The real two-process test is
// daemon.TestSecondDaemonOnSameDataDir.)
func TestRunProductionDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "tillbridge.toml")
	cfg := strings.Replace(validConfig(dir), "data_dir = \""+dir+"\"", "data_dir = \""+data+"\"", 1) +
		"\n[[listen]]\naddress = \"127.0.0.1:0\"\n"
	testenv.WriteFile(t, file, 0o600, cfg)
	testenv.WriteFile(t, filepath.Join(dir, "md5.key"), 0o600, "0123456789abcdef0123456789abcdef\n")
	l, err := datalock.Acquire(data)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	code, out, errOut := run(t, "run", "--config", file)
	if code != exitDataInUse {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitDataInUse, out, errOut)
	}
	for _, want := range []string{fmt.Sprintf("in use by tillbridge pid %d", os.Getpid()), "data directory " + data} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "journal.db")); !os.IsNotExist(err) {
		t.Errorf("the refused daemon created the journal: %v", err)
	}
}
