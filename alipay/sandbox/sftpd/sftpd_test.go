package sftpd_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/tillbridge/tillbridge/alipay/sandbox/sftpd"
)

// TestReadOnlyServer: listings and downloads work; uploads, renames and
// removals are refused; the host key is kept (0600) and reloaded.
func TestReadOnlyServer(t *testing.T) {
	root, sec := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("hello"), 0o644)
	keyFile := filepath.Join(sec, "host.key")
	hk, err := sftpd.LoadOrCreateHostKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v", fi.Mode())
	}
	again, err := sftpd.LoadOrCreateHostKey(keyFile)
	if err != nil || string(again.PublicKey().Marshal()) != string(hk.PublicKey().Marshal()) {
		t.Fatalf("host key not reloaded: %v", err)
	}
	if _, err := sftpd.New(sftpd.Config{Root: root, HostKey: hk, User: "u"}); err == nil {
		t.Fatal("a server without a password or keys was built")
	}
	srv, err := sftpd.New(sftpd.Config{Root: root, HostKey: hk, User: "u", Password: "p"})
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
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	conn, err := ssh.Dial("tcp", ln.Addr().String(), &ssh.ClientConfig{User: "u",
		Auth: []ssh.AuthMethod{ssh.Password("p")}, HostKeyCallback: ssh.FixedHostKey(hk.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fis, err := c.ReadDir("/")
	if err != nil || len(fis) != 1 || fis[0].Name() != "a.txt" {
		t.Fatalf("list: %v %v", fis, err)
	}
	f, err := c.Open("/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 10)
	n, _ := f.Read(b)
	f.Close()
	if string(b[:n]) != "hello" {
		t.Fatalf("read %q", b[:n])
	}
	if w, err := c.Create("/b.txt"); err == nil {
		_, werr := w.Write([]byte("x"))
		w.Close()
		if werr == nil {
			t.Error("upload accepted")
		}
	}
	if err := c.Remove("/a.txt"); err == nil {
		t.Error("remove accepted")
	}
	if err := c.Rename("/a.txt", "/c.txt"); err == nil {
		t.Error("rename accepted")
	}
	if _, err := os.Stat(filepath.Join(root, "b.txt")); err == nil {
		t.Error("a file was written")
	}
	if _, err := ssh.Dial("tcp", ln.Addr().String(), &ssh.ClientConfig{User: "u",
		Auth: []ssh.AuthMethod{ssh.Password("wrong")}, HostKeyCallback: ssh.FixedHostKey(hk.PublicKey())}); err == nil {
		t.Error("wrong password accepted")
	}
}
