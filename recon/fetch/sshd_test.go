package fetch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/recon/fetch"
	"golang.org/x/crypto/ssh"
)

const sshdPath = "/usr/sbin/sshd"

// TestSFTPAgainstOpenSSH fetches from a real OpenSSH sshd started on
// loopback with its own config, host key and authorized keys, serving the
// sftp subsystem with internal-sftp.
func TestSFTPAgainstOpenSSH(t *testing.T) {
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("OpenSSH server not installed (%v): install it with `scripts/need.sh openssh-server` (make does)", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	files, body := filesDir(t)
	dir := t.TempDir()
	hostKey := writeKey(t, filepath.Join(dir, "host_ed25519"))
	clientKey := writeKey(t, filepath.Join(dir, "id_ed25519"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientKey.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd running as root wants its privilege-separation folder.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers %s
Subsystem sftp internal-sftp
`, port, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"), u.Username)
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", logs.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, addr)

	src, err := fetch.DialSFTP(ctx, fetch.SFTPConfig{Addr: addr, User: u.Username, KeyFile: filepath.Join(dir, "id_ed25519"),
		Fingerprint: ssh.FingerprintSHA256(hostKey.PublicKey()), Dir: files})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a, err := fetch.Day(ctx, src, filepath.Join(t.TempDir(), "archive"), partner, "transaction", day)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(a.Path); !bytes.Equal(got, body) {
		t.Fatalf("fetched %q", got)
	}
	if _, err := fetch.Day(ctx, src, t.TempDir(), partner, "settlement", day); err == nil {
		t.Fatal("a missing file was fetched")
	}

	// The same server with another pinned key is refused.
	other := writeKey(t, filepath.Join(t.TempDir(), "other"))
	_, err = fetch.DialSFTP(ctx, fetch.SFTPConfig{Addr: addr, User: u.Username, KeyFile: filepath.Join(dir, "id_ed25519"),
		KnownHosts: knownHosts(t, t.TempDir(), addr, other.PublicKey())})
	var he *fetch.HostKeyError
	if !errors.As(err, &he) {
		t.Fatalf("want *HostKeyError, got %v", err)
	}
}

// freePort returns a loopback port free right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitListening waits until addr accepts connections (sshd starting).
func waitListening(t *testing.T, addr string) {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "sshd listening on "+addr)
}
