//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/internal/testenv"
)

// TestConfigCheckRefusesUntrustedFiles: config check names a key file
// owned by another user, a key file in a group- or world-writable folder,
// an ECR socket mode wider than 0660, and a control or ECR socket in a
// world-writable folder; each problem alone fails the check.
func TestConfigCheckRefusesUntrustedFiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	const key = "0123456789abcdef0123456789abcdef\n"
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) (config string)
		want  []string
	}{
		{"key owned by another user", func(t *testing.T, dir string) string {
			k := filepath.Join(dir, "md5.key")
			testenv.WriteFile(t, k, 0o600, key)
			if err := os.Chown(k, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return validConfig(dir)
		}, []string{"gateway.md5_key_file:", "owned by uid 65534", "chown tillbridge"}},
		{"key in a group-writable folder", func(t *testing.T, dir string) string {
			sub := testenv.MkdirMode(t, filepath.Join(dir, "keys"), 0o770)
			testenv.WriteFile(t, filepath.Join(sub, "md5.key"), 0o600, key)
			return strings.Replace(validConfig(dir), `"md5.key"`, `"keys/md5.key"`, 1)
		}, []string{"gateway.md5_key_file:", "folder " + "DIR/keys", "mode 0770", "chmod go-w"}},
		{"key in a world-writable sticky folder", func(t *testing.T, dir string) string {
			sub := testenv.MkdirMode(t, filepath.Join(dir, "keys"), 0o777|os.ModeSticky)
			testenv.WriteFile(t, filepath.Join(sub, "md5.key"), 0o600, key)
			return strings.Replace(validConfig(dir), `"md5.key"`, `"keys/md5.key"`, 1)
		}, []string{"gateway.md5_key_file:", "folder DIR/keys", "writable by its group or by everyone"}},
		{"socket mode wider than 0660", func(t *testing.T, dir string) string {
			testenv.WriteFile(t, filepath.Join(dir, "md5.key"), 0o600, key)
			return validConfig(dir) + "\n[[listen]]\nnetwork = \"unix\"\naddress = \"ecr.sock\"\nmode = \"0666\"\n"
		}, []string{"listen[0].mode: 0666 is wider than 0660"}},
		{"control socket in a world-writable folder", func(t *testing.T, dir string) string {
			testenv.WriteFile(t, filepath.Join(dir, "md5.key"), 0o600, key)
			pub := testenv.MkdirMode(t, filepath.Join(dir, "pub"), 0o777|os.ModeSticky)
			return validConfig(dir) + "\n[control]\nsocket = \"" + filepath.Join(pub, "control.sock") + "\"\n"
		}, []string{"control.socket: control socket DIR/pub/control.sock: folder DIR/pub is writable by everyone"}},
		{"default control socket in a world-writable data folder", func(t *testing.T, dir string) string {
			testenv.WriteFile(t, filepath.Join(dir, "md5.key"), 0o600, key)
			data := testenv.MkdirMode(t, filepath.Join(dir, "data"), 0o777)
			return strings.Replace(validConfig(dir), "data_dir = \""+dir+"\"", "data_dir = \""+data+"\"", 1)
		}, []string{"control.socket:", "folder DIR/data is writable by everyone"}},
		{"ECR socket in a world-writable folder", func(t *testing.T, dir string) string {
			testenv.WriteFile(t, filepath.Join(dir, "md5.key"), 0o600, key)
			testenv.MkdirMode(t, filepath.Join(dir, "pub"), 0o777)
			return validConfig(dir) + "\n[[listen]]\nnetwork = \"unix\"\naddress = \"pub/ecr.sock\"\n"
		}, []string{"listen[0].address: ECR socket DIR/pub/ecr.sock: folder DIR/pub is writable by everyone"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "tillbridge.toml")
			testenv.WriteFile(t, file, 0o600, c.setup(t, dir))
			code, out, errOut := run(t, "config", "check", file)
			if code != exitFailure {
				t.Errorf("exit %d, want %d\n%s%s", code, exitFailure, out, errOut)
			}
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "DIR", dir); !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// The same settings done right pass.
	dir := t.TempDir()
	file := filepath.Join(dir, "tillbridge.toml")
	testenv.WriteFile(t, filepath.Join(dir, "md5.key"), 0o600, key)
	testenv.MkdirMode(t, filepath.Join(dir, "run"), 0o750)
	testenv.WriteFile(t, file, 0o600, validConfig(dir)+"\n[[listen]]\nnetwork = \"unix\"\naddress = \"run/ecr.sock\"\nmode = \"0660\"\n")
	if code, out, errOut := run(t, "config", "check", file); code != exitOK {
		t.Errorf("private sockets and key: exit %d\n%s%s", code, out, errOut)
	}
}
