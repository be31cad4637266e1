//go:build !windows

package installer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tillbridge/tillbridge/internal/testenv"
)

// realTrustHost is the recording fake with the real trust check on real
// files.
type realTrustHost struct{ *fakeHost }

func (realTrustHost) checkTrusted(p Plan) error { return checkInstallTrust(p) }

// TestInstallChecksRealBinaryAndFolders installs with a real binary file:
// refused when the binary is group-writable, owned by another user, in a
// world-writable folder, or when a folder above the data folder is
// world-writable; accepted once all are root-owned and 0755.
func TestInstallChecksRealBinaryAndFolders(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown to another user")
	}
	root := t.TempDir()
	bindir := testenv.MkdirMode(t, filepath.Join(root, "bin"), 0o755)
	bin := testenv.WriteFile(t, filepath.Join(bindir, "tillbridge"), 0o755, "secret-key")
	varDir := testenv.MkdirMode(t, filepath.Join(root, "var"), 0o755)
	plan := func() Plan {
		p := linuxPlan(t)
		p.Executable = bin
		p.Paths = Paths{Config: filepath.Join(root, "etc", "tillbridge", "tb.toml"),
			Data: filepath.Join(varDir, "lib", "tillbridge"), Logs: filepath.Join(varDir, "log", "tillbridge"),
			Run: "/run/tillbridge"}
		return p
	}
	install := func() error {
		h := realTrustHost{newFakeHost()}
		o, _ := testOps(t, h)
		err := o.install(context.Background(), plan())
		if err != nil && h.log() != "" {
			t.Errorf("refused install touched the system:\n%s", h.log())
		}
		return err
	}
	refused := func(name, path string, undo func()) {
		t.Helper()
		err := install()
		var ue *UntrustedPathError
		if !errors.As(err, &ue) || ue.Path != path {
			t.Errorf("%s: %v, want *UntrustedPathError on %s", name, err, path)
		}
		undo()
	}

	if err := os.Chmod(bin, 0o775); err != nil {
		t.Fatal(err)
	}
	refused("group-writable binary", bin, func() { _ = os.Chmod(bin, 0o755) })
	chown(t, bin, nobody, nobody)
	refused("binary owned by another user", bin, func() { chown(t, bin, 0, 0) })
	testenv.MkdirMode(t, bindir, 0o777)
	refused("world-writable binary folder", bindir, func() { testenv.MkdirMode(t, bindir, 0o755) })
	testenv.MkdirMode(t, varDir, 0o777)
	refused("world-writable folder above the data folder", varDir, func() { testenv.MkdirMode(t, varDir, 0o755) })
	chown(t, varDir, nobody, nobody)
	refused("folder above the data folder owned by another user", varDir, func() { chown(t, varDir, 0, 0) })

	if err := install(); err != nil {
		t.Fatalf("root-owned 0755 binary and folders: %v", err)
	}
}
