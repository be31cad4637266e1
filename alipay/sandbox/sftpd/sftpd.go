// Package sftpd is a small read-only SFTP server (pkg/sftp over
// x/crypto/ssh) that serves one folder: the sandbox's reconciliation files
// as Alipay's SFTP server would, for `make run` and for tests of the
// reconciliation fetcher. It is not a general-purpose server: one user,
// password or public-key authentication, downloads and listings only.
package sftpd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Config is what the server serves and whom it lets in.
type Config struct {
	// Root is the folder served, read-only; "/" is Root.
	Root string
	// HostKey is the server's host key (LoadOrCreateHostKey).
	HostKey ssh.Signer
	// User is the only user name accepted.
	User string
	// Password, when set, is accepted for User.
	Password string
	// AuthorizedKeys, when set, are accepted for User.
	AuthorizedKeys []ssh.PublicKey
	// Logf reports connections and errors (optional).
	Logf func(format string, args ...any)
}

// Server is a running SFTP server.
type Server struct {
	cfg  Config
	ssh  *ssh.ServerConfig
	root *os.Root

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// New checks cfg and returns a server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.HostKey == nil || cfg.User == "" || (cfg.Password == "" && len(cfg.AuthorizedKeys) == 0) {
		return nil, errors.New("sftpd: need a host key, a user, and a password or authorized keys")
	}
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("sftpd: %w", err)
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	s := &Server{cfg: cfg, root: root, conns: map[net.Conn]struct{}{}}
	sc := &ssh.ServerConfig{}
	if cfg.Password != "" {
		sc.PasswordCallback = func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if m.User() == cfg.User && subtle.ConstantTimeCompare(pw, []byte(cfg.Password)) == 1 {
				return nil, nil
			}
			return nil, errors.New("sftpd: wrong user or password")
		}
	}
	if len(cfg.AuthorizedKeys) > 0 {
		sc.PublicKeyCallback = func(m ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			for _, a := range cfg.AuthorizedKeys {
				if m.User() == cfg.User && bytes.Equal(a.Marshal(), k.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("sftpd: key not authorized")
		}
	}
	sc.AddHostKey(cfg.HostKey)
	s.ssh = sc
	return s, nil
}

// Fingerprint is the host key's SHA-256 fingerprint ("SHA256:…"), the
// value a client pins.
func (s *Server) Fingerprint() string { return ssh.FingerprintSHA256(s.cfg.HostKey.PublicKey()) }

// Serve accepts connections on ln until ctx is done, then closes ln and
// every connection and waits for their goroutines.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	defer stop()
	defer s.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sftpd: accept: %w", err)
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// handle runs one SSH connection: sftp subsystem sessions only.
func (s *Server) handle(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, s.ssh)
	if err != nil {
		s.cfg.Logf("sftpd: %s: handshake: %v", c.RemoteAddr(), err)
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(ch, creqs)
		}()
	}
}

func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for r := range reqs {
		ok := r.Type == "subsystem" && len(r.Payload) >= 4 && string(r.Payload[4:]) == "sftp"
		_ = r.Reply(ok, nil)
		if !ok {
			continue
		}
		go ssh.DiscardRequests(reqs)
		h := handler{root: s.root}
		srv := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
		if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
			s.cfg.Logf("sftpd: session: %v", err)
		}
		srv.Close()
		return
	}
}

// handler serves the root folder read-only.
type handler struct{ root *os.Root }

// rel turns an SFTP path into one relative to the root.
func rel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

// Fileread opens a file for download.
func (h handler) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	f, err := h.root.Open(rel(r.Filepath))
	if err != nil {
		return nil, os.ErrNotExist
	}
	return f, nil
}

// Filewrite refuses: the server is read-only.
func (h handler) Filewrite(*sftp.Request) (io.WriterAt, error) {
	return nil, sftp.ErrSSHFxPermissionDenied
}

// Filecmd refuses: the server is read-only.
func (h handler) Filecmd(*sftp.Request) error { return sftp.ErrSSHFxPermissionDenied }

// Filelist lists a folder or stats a file.
func (h handler) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	switch r.Method {
	case "List":
		d, err := h.root.Open(rel(r.Filepath))
		if err != nil {
			return nil, os.ErrNotExist
		}
		defer d.Close()
		fis, err := d.Readdir(-1)
		if err != nil {
			return nil, err
		}
		return lister(fis), nil
	case "Stat", "Lstat":
		fi, err := h.root.Stat(rel(r.Filepath))
		if err != nil {
			return nil, os.ErrNotExist
		}
		return lister{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

type lister []os.FileInfo

// ListAt implements sftp.ListerAt.
func (l lister) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if n < len(out) {
		return n, io.EOF
	}
	return n, nil
}

// LoadOrCreateHostKey reads an ed25519 host key (OpenSSH PEM) from file,
// or generates one there (0600) when the file does not exist.
func LoadOrCreateHostKey(file string) (ssh.Signer, error) {
	if b, err := os.ReadFile(file); err == nil {
		k, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("sftpd: host key %s: %w", file, err)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "tillbridge sandbox sftp")
	if err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(blk), 0o600); err != nil {
		return nil, fmt.Errorf("sftpd: host key: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}
