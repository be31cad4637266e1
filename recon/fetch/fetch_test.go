package fetch_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tillbridge/tillbridge/alipay/sandbox/sftpd"
	"github.com/tillbridge/tillbridge/recon/fetch"
)

const partner = "2088101122136241"

var day = time.Date(2026, 3, 4, 0, 0, 0, 0, time.FixedZone("GMT+8", 8*3600))

// writeKey writes a new ed25519 private key (OpenSSH format, 0600) and
// returns its signer.
func writeKey(t *testing.T, file string) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// filesDir holds one transaction file of day.
func filesDir(t *testing.T) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	body := []byte("Partner:" + partner + "|Payment_time: 2026-03-04|Total_count:0\nPartner_transaction_id|…\n")
	if err := os.WriteFile(filepath.Join(dir, partner+"_transaction_20260304.txt"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, body
}

// startSFTPD serves dir with the in-process server on loopback.
func startSFTPD(t *testing.T, dir string, cfg sftpd.Config) (string, *sftpd.Server) {
	t.Helper()
	cfg.Root = dir
	srv, err := sftpd.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), srv
}

func TestSFTPInProcess(t *testing.T) {
	ctx := context.Background()
	files, body := filesDir(t)
	sec := t.TempDir()
	hostKey, err := sftpd.LoadOrCreateHostKey(filepath.Join(sec, "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	clientKey := writeKey(t, filepath.Join(sec, "id_ed25519"))
	addr, srv := startSFTPD(t, files, sftpd.Config{HostKey: hostKey, User: "alipay", Password: "s3cret",
		AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}})
	pw := filepath.Join(sec, "password")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)

	for name, cfg := range map[string]fetch.SFTPConfig{
		"password+fingerprint": {Addr: addr, User: "alipay", PasswordFile: pw, Fingerprint: srv.Fingerprint()},
		"key+fingerprint":      {Addr: addr, User: "alipay", KeyFile: filepath.Join(sec, "id_ed25519"), Fingerprint: srv.Fingerprint()[len("SHA256:"):]},
		"password+known_hosts": {Addr: addr, User: "alipay", PasswordFile: pw, KnownHosts: knownHosts(t, sec, addr, hostKey.PublicKey())},
	} {
		t.Run(name, func(t *testing.T) {
			src, err := fetch.DialSFTP(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			archive := filepath.Join(t.TempDir(), "archive")
			a, err := fetch.Day(ctx, src, archive, partner, "transaction", day)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(a.Path)
			if string(got) != string(body) || len(a.SHA256) != 64 || a.Size != int64(len(body)) {
				t.Fatalf("archived %+v %q", a, got)
			}
			if _, err := fetch.Day(ctx, src, archive, partner, "settlement", day); !errors.Is(err, fetch.ErrNotYet) {
				t.Fatalf("missing settlement file: %v", err)
			}
		})
	}

	t.Run("wrong pinned key refused", func(t *testing.T) {
		other := writeKey(t, filepath.Join(t.TempDir(), "other"))
		for _, cfg := range []fetch.SFTPConfig{
			{Addr: addr, User: "alipay", PasswordFile: pw, Fingerprint: ssh.FingerprintSHA256(other.PublicKey())},
			{Addr: addr, User: "alipay", PasswordFile: pw, KnownHosts: knownHosts(t, t.TempDir(), addr, other.PublicKey())},
		} {
			_, err := fetch.DialSFTP(ctx, cfg)
			var he *fetch.HostKeyError
			if !errors.As(err, &he) {
				t.Fatalf("want *HostKeyError, got %v", err)
			}
		}
	})
	t.Run("no pin refused", func(t *testing.T) {
		if _, err := fetch.DialSFTP(ctx, fetch.SFTPConfig{Addr: addr, User: "alipay", PasswordFile: pw}); err == nil {
			t.Fatal("connected without a pinned host key")
		}
	})
	t.Run("readable password file refused", func(t *testing.T) {
		loose := filepath.Join(sec, "loose")
		os.WriteFile(loose, []byte("s3cret"), 0o644)
		os.Chmod(loose, 0o644)
		_, err := fetch.DialSFTP(ctx, fetch.SFTPConfig{Addr: addr, User: "alipay", PasswordFile: loose, Fingerprint: srv.Fingerprint()})
		var pe *fetch.PermError
		if !errors.As(err, &pe) {
			t.Fatalf("want *PermError, got %v", err)
		}
	})
	t.Run("wrong password refused", func(t *testing.T) {
		bad := filepath.Join(sec, "bad")
		os.WriteFile(bad, []byte("nope"), 0o600)
		if _, err := fetch.DialSFTP(ctx, fetch.SFTPConfig{Addr: addr, User: "alipay", PasswordFile: bad, Fingerprint: srv.Fingerprint()}); err == nil {
			t.Fatal("wrong password accepted")
		}
	})
	t.Run("read-only and confined", func(t *testing.T) {
		src, err := fetch.DialSFTP(ctx, fetch.SFTPConfig{Addr: addr, User: "alipay", PasswordFile: pw, Fingerprint: srv.Fingerprint(), Dir: "/../../etc"})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if _, err := src.Get(ctx, "passwd"); err == nil {
			t.Fatal("served a file outside its root")
		}
	})
}

// knownHosts writes a known_hosts file with key for addr.
func knownHosts(t *testing.T, dir, addr string, key ssh.PublicKey) string {
	t.Helper()
	p := filepath.Join(dir, "known_hosts")
	line := knownHostsLine(addr, key)
	if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestArchiveKeepsEveryVersion(t *testing.T) {
	dir := t.TempDir()
	a1, err := fetch.Archive(dir, "f.txt", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := fetch.Archive(dir, "f.txt", []byte("one"))
	a3, _ := fetch.Archive(dir, "f.txt", []byte("two"))
	if a1.Path != a2.Path || a3.Path == a1.Path || a3.SHA256 == a1.SHA256 {
		t.Fatalf("%+v %+v %+v", a1, a2, a3)
	}
	if b, _ := os.ReadFile(a1.Path); string(b) != "one" {
		t.Fatal("first version overwritten")
	}
}

func TestDirSource(t *testing.T) {
	files, body := filesDir(t)
	a, err := fetch.Day(context.Background(), fetch.Dir{Path: files}, t.TempDir(), partner, "transaction", day)
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != int64(len(body)) {
		t.Fatalf("%+v", a)
	}
	if _, err := fetch.Day(context.Background(), fetch.Dir{Path: files}, t.TempDir(), partner, "transaction", day.AddDate(0, 0, 1)); !errors.Is(err, fetch.ErrNotYet) {
		t.Fatalf("next day: %v", err)
	}
}
