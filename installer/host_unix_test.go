//go:build !windows

package installer

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"testing"
)

func TestOSHostFiles(t *testing.T) {
	dir := t.TempDir()
	h := osHost{}
	file := filepath.Join(dir, "tillbridge.toml")
	if created, err := h.createExcl(file, []byte("sample"), 0o600); err != nil || !created {
		t.Fatalf("createExcl new: %v %v", created, err)
	}
	if created, err := h.createExcl(file, []byte("other"), 0o600); err != nil || created {
		t.Fatalf("createExcl existing: %v %v", created, err)
	}
	if b, _ := os.ReadFile(file); string(b) != "sample" {
		t.Fatalf("existing file overwritten: %q", b)
	}
	rules := filepath.Join(dir, "70.rules")
	if err := h.writeFile(rules, []byte("r"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(rules); fi.Mode().Perm() != 0o644 {
		t.Fatalf("rules mode %04o", fi.Mode().Perm())
	}
	if removed, err := h.removeFile(rules); !removed || err != nil {
		t.Fatalf("remove: %v %v", removed, err)
	}
	if removed, err := h.removeFile(rules); removed || err != nil {
		t.Fatalf("remove again: %v %v", removed, err)
	}
}

func TestOSHostChownRecursiveToSelf(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	g, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o750); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a", "b", "journal.db"), nil, 0o600)
	os.Symlink("/etc/passwd", filepath.Join(dir, "a", "link"))
	if err := (osHost{}).chown(dir, me.Username, g.Name, true); err != nil {
		t.Fatalf("chown -R to self: %v", err)
	}
	if err := (osHost{}).chown(dir, "no-such-user-tb", g.Name, false); err == nil {
		t.Fatal("chown to an unknown user succeeded")
	}
}

func TestOSHostRunReportsOutput(t *testing.T) {
	err := (osHost{}).run(context.Background(), "sh", "-c", "echo useradd: group x does not exist >&2; exit 6")
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Output == "" || ce.Command != "sh -c echo useradd: group x does not exist >&2; exit 6" {
		t.Fatalf("run failure: %#v", err)
	}
}
