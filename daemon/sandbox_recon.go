package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/alipay/sandbox/sftpd"
	"github.com/tillbridge/tillbridge/recon"
	"github.com/tillbridge/tillbridge/recon/fetch"
)

// Sandbox reconciliation defaults: the sandbox writes its files into
// DATA/SandboxFilesDir and serves them by SFTP on DefaultSandboxSFTPListen.
const (
	DefaultSandboxSFTPListen = "127.0.0.1:7431"
	SandboxFilesDir          = "sandbox-files"
	SandboxSFTPHostKeyFile   = "sandbox-sftp-host.key"
	SandboxSFTPPasswordFile  = "sandbox-sftp.password"
	// SandboxReconcileFile holds the [reconcile] settings of the sandbox
	// run as JSON, for `tillbridge reconcile --data DATA` without a config.
	SandboxReconcileFile = "sandbox-reconcile.json"
)

// SandboxRecon is the sandbox's reconciliation side: the file writer and
// the SFTP server.
type SandboxRecon struct {
	// Addr is the SFTP address; Fingerprint its host key's SHA-256
	// fingerprint; Dir the folder of the files; Config the [reconcile]
	// settings that fetch from it.
	Addr, Fingerprint, Dir string
	Config                 recon.Config
	cancel                 context.CancelFunc
	wg                     sync.WaitGroup
}

// StartSandboxRecon makes the sandbox write its transaction and
// settlement files (the current day's at once and every 10 s, the day
// before's each morning at 09:30 Beijing time) into DATA/sandbox-files and
// serve them read-only over SFTP on listen (loopback), with a host key
// and a password generated into the data directory (0600). It sets
// sb.Config.Reconcile to fetch from it and writes the same settings to
// DATA/sandbox-reconcile.json.
func StartSandboxRecon(sb *Sandbox, dataDir, listen string, logf func(string, ...any)) (*SandboxRecon, error) {
	if listen == "" {
		listen = DefaultSandboxSFTPListen
	}
	if h, _, err := net.SplitHostPort(listen); err != nil || !(h == "127.0.0.1" || h == "::1" || h == "localhost") {
		return nil, fmt.Errorf("sandbox sftp: %q is not a loopback address", listen)
	}
	dir := filepath.Join(dataDir, SandboxFilesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox sftp: %w", err)
	}
	hk, err := sftpd.LoadOrCreateHostKey(filepath.Join(dataDir, SandboxSFTPHostKeyFile))
	if err != nil {
		return nil, err
	}
	pwFile := filepath.Join(dataDir, SandboxSFTPPasswordFile)
	pw, err := loadOrCreatePassword(pwFile)
	if err != nil {
		return nil, err
	}
	srv, err := sftpd.New(sftpd.Config{Root: dir, HostKey: hk, User: SandboxPartner, Password: pw, Logf: logf})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("sandbox sftp: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &SandboxRecon{Addr: ln.Addr().String(), Fingerprint: srv.Fingerprint(), Dir: dir, cancel: cancel}
	r.Config = recon.Config{Enabled: true, Source: "sftp", SFTP: fetch.SFTPConfig{Addr: r.Addr, User: SandboxPartner,
		PasswordFile: pwFile, Fingerprint: r.Fingerprint}}
	sb.Config.Reconcile = r.Config
	if err := writeJSONFile(filepath.Join(dataDir, SandboxReconcileFile), r.Config); err != nil {
		ln.Close()
		cancel()
		return nil, err
	}
	// Yesterday's and today's files exist before the daemon's daily job
	// first looks (it runs at start-up when its time has passed).
	now := time.Now()
	for _, day := range []time.Time{now.AddDate(0, 0, -1), now} {
		if _, err := sb.srv.WriteFiles(dir, day); err != nil {
			ln.Close()
			cancel()
			return nil, err
		}
	}
	r.wg.Add(2)
	go func() { defer r.wg.Done(); _ = srv.Serve(ctx, ln) }()
	go func() {
		defer r.wg.Done()
		_ = sb.srv.RunFileWriter(ctx, sandbox.FileSchedule{Dir: dir, Now: true, Every: 10 * time.Second})
	}()
	return r, nil
}

// Close stops the file writer and the SFTP server.
func (r *SandboxRecon) Close() {
	r.cancel()
	r.wg.Wait()
}

// LoadSandboxReconcile reads DATA/sandbox-reconcile.json (written by a
// sandbox run); os.ErrNotExist when there is none.
func LoadSandboxReconcile(dataDir string) (recon.Config, error) {
	var c recon.Config
	b, err := os.ReadFile(filepath.Join(dataDir, SandboxReconcileFile))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", SandboxReconcileFile, err)
	}
	return c, nil
}

func loadOrCreatePassword(file string) (string, error) {
	if b, err := os.ReadFile(file); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("sandbox sftp password: %w", err)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sandbox sftp password: %w", err)
	}
	pw := hex.EncodeToString(b[:])
	if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("sandbox sftp password: %w", err)
	}
	return pw, nil
}

func writeJSONFile(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(file), err)
	}
	return nil
}
