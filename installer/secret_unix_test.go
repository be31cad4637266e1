//go:build !windows

package installer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckSecretFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "md5.key")
	if err := os.WriteFile(file, []byte("k3y"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o600, 0o400, 0o700} {
		if err := os.Chmod(file, mode); err != nil {
			t.Fatal(err)
		}
		if err := CheckSecretFile(file); err != nil {
			t.Errorf("mode %04o refused: %v", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o660} {
		if err := os.Chmod(file, mode); err != nil {
			t.Fatal(err)
		}
		err := CheckSecretFile(file)
		var ins *InsecureFileError
		if !errors.As(err, &ins) || !errors.Is(err, ErrInsecureFile) {
			t.Fatalf("mode %04o: %v, want *InsecureFileError", mode, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, file) || !strings.Contains(msg, "chmod 600 "+file+"; chown tillbridge "+file) {
			t.Errorf("mode %04o: message lacks the file or the fix: %s", mode, msg)
		}
	}
	if err := CheckSecretFile(filepath.Join(dir, "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSecretFixQuotesOddPaths(t *testing.T) {
	if got := unixFix("/etc/till bridge/k"); got != "chmod 600 '/etc/till bridge/k'; chown tillbridge '/etc/till bridge/k'" {
		t.Fatal(got)
	}
}
