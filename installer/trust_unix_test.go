//go:build !windows

package installer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/internal/testenv"
)

// nobody stands in for "another user": the tests run as root, so files are
// chowned to this uid to belong to someone else.
const nobody = 65534

func chown(t *testing.T, path string, uid, gid int) {
	t.Helper()
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
}

// wantUntrusted checks err is an *UntrustedPathError about path whose
// message holds every one of words.
func wantUntrusted(t *testing.T, name string, err error, path string, words ...string) {
	t.Helper()
	var ue *UntrustedPathError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUntrustedPath) {
		t.Errorf("%s: %v, want *UntrustedPathError", name, err)
		return
	}
	if ue.Path != path {
		t.Errorf("%s: blames %s, want %s", name, ue.Path, path)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: message lacks %q: %s", name, w, err)
		}
	}
}

func TestCheckSecretFileOwnerAndFolders(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	svc := Account{UID: nobody, GID: nobody}

	dir := testenv.MkdirMode(t, filepath.Join(root, "ok"), 0o750)
	key := testenv.WriteFile(t, filepath.Join(dir, "md5.key"), 0o600, "secret-key")
	if err := CheckSecretFileFor(key, ProcessAccount()); err != nil {
		t.Errorf("root-owned 0600 key in a 0750 root folder: %v", err)
	}
	chown(t, key, nobody, nobody)
	wantUntrusted(t, "key owned by another user", CheckSecretFileFor(key, ProcessAccount()), key,
		"owned by uid 65534", "chown tillbridge")
	if err := CheckSecretFileFor(key, svc); err != nil {
		t.Errorf("key owned by the service account: %v", err)
	}

	// root:service-group 0640: the service reads, cannot change it.
	chown(t, key, 0, nobody)
	if err := os.Chmod(key, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := CheckSecretFileFor(key, svc); err != nil {
		t.Errorf("root:svc 0640 for the service account: %v", err)
	}
	if err := CheckSecretFileFor(key, ProcessAccount()); !errors.Is(err, ErrInsecureFile) {
		t.Errorf("0640 with a root service: %v, want ErrInsecureFile", err)
	}
	if err := os.Chmod(key, 0o660); err != nil {
		t.Fatal(err)
	}
	if err := CheckSecretFileFor(key, svc); !errors.Is(err, ErrInsecureFile) {
		t.Errorf("root:svc 0660: %v, want ErrInsecureFile", err)
	}

	for _, c := range []struct {
		name string
		mode os.FileMode
	}{{"group-writable folder", 0o770}, {"world-writable folder", 0o777}, {"sticky world-writable folder", 0o777 | os.ModeSticky}} {
		d := testenv.MkdirMode(t, filepath.Join(root, strings.ReplaceAll(c.name, " ", "-")), c.mode)
		k := testenv.WriteFile(t, filepath.Join(d, "md5.key"), 0o600, "secret-key")
		wantUntrusted(t, c.name, CheckSecretFileFor(k, ProcessAccount()), d, "writable by its group or by everyone", "chmod go-w")
	}

	// A folder further up: world-writable is refused, unless it is
	// root-owned and sticky (like /tmp, which holds t.TempDir()).
	up := testenv.MkdirMode(t, filepath.Join(root, "up"), 0o777)
	inner := testenv.MkdirMode(t, filepath.Join(up, "etc"), 0o750)
	k := testenv.WriteFile(t, filepath.Join(inner, "md5.key"), 0o600, "secret-key")
	wantUntrusted(t, "world-writable grandparent", CheckSecretFileFor(k, ProcessAccount()), up, "mode 0777")
	testenv.MkdirMode(t, up, 0o777|os.ModeSticky)
	if err := CheckSecretFileFor(k, ProcessAccount()); err != nil {
		t.Errorf("root-owned sticky grandparent: %v", err)
	}

	other := testenv.MkdirMode(t, filepath.Join(root, "other"), 0o755)
	chown(t, other, nobody, nobody)
	k = testenv.WriteFile(t, filepath.Join(other, "md5.key"), 0o600, "secret-key")
	wantUntrusted(t, "folder owned by another user", CheckSecretFileFor(k, ProcessAccount()), other, "owned by uid 65534")
	if err := CheckSecretFileFor(k, svc); err != nil {
		t.Errorf("folder owned by the service account: %v", err)
	}
}

func TestCheckTrustedBinary(t *testing.T) {
	needRoot(t)
	dir := testenv.MkdirMode(t, filepath.Join(t.TempDir(), "bin"), 0o755)
	bin := testenv.WriteFile(t, filepath.Join(dir, "tillbridge"), 0o755, "secret-key")
	if err := CheckTrustedBinary(bin); err != nil {
		t.Fatalf("root 0755 binary in a root 0755 folder: %v", err)
	}
	if err := os.Chmod(bin, 0o775); err != nil {
		t.Fatal(err)
	}
	wantUntrusted(t, "group-writable binary", CheckTrustedBinary(bin), bin, "mode 0775", "chmod 0755")
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	chown(t, bin, nobody, nobody)
	wantUntrusted(t, "binary owned by another user", CheckTrustedBinary(bin), bin, "owned by uid 65534", "chown root:root")
	chown(t, bin, 0, 0)
	testenv.MkdirMode(t, dir, 0o777)
	wantUntrusted(t, "world-writable folder", CheckTrustedBinary(bin), dir, "mode 0777")
	testenv.MkdirMode(t, dir, 0o777|os.ModeSticky)
	wantUntrusted(t, "sticky folder holding the binary", CheckTrustedBinary(bin), dir, "mode 0777")
	testenv.MkdirMode(t, dir, 0o755)
	chown(t, dir, nobody, nobody)
	wantUntrusted(t, "folder owned by another user", CheckTrustedBinary(bin), dir, "owned by uid 65534")
	chown(t, dir, 0, 0)
	link := filepath.Join(testenv.MkdirMode(t, filepath.Join(t.TempDir(), "l"), 0o755), "tb")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	if err := CheckTrustedBinary(link); err != nil {
		t.Errorf("symlink to a trusted binary: %v", err)
	}
}

func TestCheckTrustedFolders(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	if err := CheckTrustedFolders(filepath.Join(root, "a", "b", "data"), "data folder"); err != nil {
		t.Errorf("missing folders under a trusted root: %v", err)
	}
	open := testenv.MkdirMode(t, filepath.Join(root, "open"), 0o777)
	wantUntrusted(t, "world-writable parent", CheckTrustedFolders(filepath.Join(open, "data"), "data folder"), open, "data folder")
	// The folder itself is the installer's to create and own.
	own := testenv.MkdirMode(t, filepath.Join(root, "own"), 0o777)
	if err := CheckTrustedFolders(own, "data folder"); err != nil {
		t.Errorf("the folder itself is not checked: %v", err)
	}
}

func TestCheckSocketFolder(t *testing.T) {
	root := t.TempDir()
	priv := testenv.MkdirMode(t, filepath.Join(root, "run"), 0o750)
	if err := CheckSocketFolder(filepath.Join(priv, "ecr.sock"), "control socket"); err != nil {
		t.Errorf("0750 folder: %v", err)
	}
	pub := testenv.MkdirMode(t, filepath.Join(root, "tmp"), 0o777|os.ModeSticky)
	wantUntrusted(t, "sticky world-writable folder", CheckSocketFolder(filepath.Join(pub, "c.sock"), "control socket"),
		pub, "writable by everyone", "control socket")
	wantUntrusted(t, "missing folder under a world-writable one",
		CheckSocketFolder(filepath.Join(pub, "x", "c.sock"), "control socket"), pub)
}
