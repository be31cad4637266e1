package testenv

import (
	"os"
	"testing"
)

// MkdirMode creates dir (and its parents) and gives it exactly mode,
// whatever the umask; it returns dir.
func MkdirMode(t testing.TB, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WriteFile writes content to path with exactly mode, whatever the
// umask; it returns path.
func WriteFile(t testing.TB, path string, mode os.FileMode, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}
