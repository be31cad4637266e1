package fetch

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SFTPConfig is how to reach Alipay's SFTP server.
type SFTPConfig struct {
	// Addr is host:port (Alipay: isftp.alipay.com:22).
	Addr string `toml:"addr"`
	// User is the SFTP account name.
	User string `toml:"user"`
	// PasswordFile holds the password (mode 0600).
	PasswordFile string `toml:"password_file"`
	// KeyFile holds a private key (OpenSSH or PEM, mode 0600), instead of
	// or as well as the password.
	KeyFile string `toml:"key_file"`
	// KnownHosts is an OpenSSH known_hosts file pinning the host key.
	KnownHosts string `toml:"known_hosts"`
	// Fingerprint pins the host key by its SHA-256 fingerprint
	// ("SHA256:…", as ssh-keygen -lf prints it). One of KnownHosts and
	// Fingerprint is required: the host key is never accepted unchecked.
	Fingerprint string `toml:"host_key_fingerprint"`
	// Dir is the remote folder of the files (default: the login folder).
	Dir string `toml:"dir"`
	// Timeout bounds connecting and the handshake (default 30 s).
	Timeout time.Duration `toml:"-"`
}

// HostKeyError reports a server whose host key is not the pinned one.
type HostKeyError struct {
	Addr, Got, Want string
}

// Error implements error.
func (e *HostKeyError) Error() string {
	return fmt.Sprintf("fetch: %s presented host key %s, pinned is %s: refusing (a changed key may be an attack; "+
		"confirm the new key with Alipay before updating the pin)", e.Addr, e.Got, e.Want)
}

// hostKeyCallback builds the pinned host key check.
func (c SFTPConfig) hostKeyCallback() (ssh.HostKeyCallback, error) {
	switch {
	case c.Fingerprint != "":
		want := c.Fingerprint
		if !strings.HasPrefix(want, "SHA256:") {
			want = "SHA256:" + want
		}
		return func(host string, _ net.Addr, key ssh.PublicKey) error {
			got := ssh.FingerprintSHA256(key)
			if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				return &HostKeyError{Addr: host, Got: got, Want: want}
			}
			return nil
		}, nil
	case c.KnownHosts != "":
		cb, err := knownhosts.New(c.KnownHosts)
		if err != nil {
			return nil, fmt.Errorf("fetch: known_hosts: %w", err)
		}
		return func(host string, remote net.Addr, key ssh.PublicKey) error {
			if err := cb(host, remote, key); err != nil {
				var ke *knownhosts.KeyError
				if errors.As(err, &ke) {
					want := "(none for this host)"
					if len(ke.Want) > 0 {
						want = ssh.FingerprintSHA256(ke.Want[0].Key)
					}
					return &HostKeyError{Addr: host, Got: ssh.FingerprintSHA256(key), Want: want}
				}
				return fmt.Errorf("fetch: host key: %w", err)
			}
			return nil
		}, nil
	}
	return nil, errors.New("fetch: sftp: the host key is not pinned: set host_key_fingerprint or known_hosts")
}

// auth builds the authentication methods from the secret files.
func (c SFTPConfig) auth() ([]ssh.AuthMethod, error) {
	var methods []ssh.AuthMethod
	if c.KeyFile != "" {
		b, err := readSecret(c.KeyFile)
		if err != nil {
			return nil, err
		}
		signer, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("fetch: key file %s: %w", c.KeyFile, err)
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if c.PasswordFile != "" {
		pw, err := readSecret(c.PasswordFile)
		if err != nil {
			return nil, err
		}
		methods = append(methods, ssh.Password(string(pw)))
	}
	if len(methods) == 0 {
		return nil, errors.New("fetch: sftp: set password_file or key_file")
	}
	return methods, nil
}

// SFTP is an SFTP Source.
type SFTP struct {
	cfg SFTPConfig
	ssh *ssh.Client
	c   *sftp.Client
}

// DialSFTP connects, checks the host key against the pin, and logs in.
func DialSFTP(ctx context.Context, cfg SFTPConfig) (*SFTP, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	hk, err := cfg.hostKeyCallback()
	if err != nil {
		return nil, err
	}
	auth, err := cfg.auth()
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("fetch: sftp: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(cfg.Timeout))
	sc, chans, reqs, err := ssh.NewClientConn(conn, cfg.Addr, &ssh.ClientConfig{User: cfg.User, Auth: auth,
		HostKeyCallback: hk, Timeout: cfg.Timeout})
	if err != nil {
		conn.Close()
		var he *HostKeyError
		if errors.As(err, &he) {
			return nil, he
		}
		return nil, fmt.Errorf("fetch: sftp %s: %w", cfg.Addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	client := ssh.NewClient(sc, chans, reqs)
	c, err := sftp.NewClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("fetch: sftp %s: %w", cfg.Addr, err)
	}
	return &SFTP{cfg: cfg, ssh: client, c: c}, nil
}

// Fingerprint returns the SHA-256 fingerprint of a public key file
// (authorized_keys / .pub line), for pinning.
func Fingerprint(pub []byte) (string, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		return "", fmt.Errorf("fetch: %w", err)
	}
	return ssh.FingerprintSHA256(k), nil
}

// Get downloads Dir/name whole.
func (s *SFTP) Get(ctx context.Context, name string) ([]byte, error) {
	if name != path.Base(name) {
		return nil, fmt.Errorf("fetch: bad file name %q", name)
	}
	p := name
	if s.cfg.Dir != "" {
		p = path.Join(s.cfg.Dir, name)
	}
	stop := context.AfterFunc(ctx, func() { s.ssh.Close() })
	defer stop()
	f, err := s.c.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: sftp %s", ErrNotYet, p)
		}
		return nil, fmt.Errorf("fetch: sftp %s: %w", p, err)
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, f); err != nil {
		return nil, fmt.Errorf("fetch: sftp %s: %w", p, err)
	}
	return b.Bytes(), nil
}

// Close logs out.
func (s *SFTP) Close() error {
	s.c.Close()
	return s.ssh.Close()
}
