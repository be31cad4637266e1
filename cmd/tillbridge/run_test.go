package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/daemon/logging"
	"github.com/tillbridge/tillbridge/installer"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// fakeSystemLog records what reaches the system log.
type fakeSystemLog struct {
	mu    sync.Mutex
	lines []string
}

func (f *fakeSystemLog) add(msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines = append(f.lines, msg)
	return nil
}
func (f *fakeSystemLog) Error(msg string) error   { return f.add("E " + msg) }
func (f *fakeSystemLog) Warning(msg string) error { return f.add("W " + msg) }
func (f *fakeSystemLog) Info(msg string) error    { return f.add("I " + msg) }
func (f *fakeSystemLog) Close() error             { return nil }

// TestRunLogsRedactEveryConfiguredSecret plants the PEM private key, the
// MD5 key and the ECR shared keys (inline and from a file) in log calls made
// through run's logging setup, as a service: the default log file, the
// console and the system log all show [REDACTED] instead.
func TestRunLogsRedactEveryConfiguredSecret(t *testing.T) {
	logs := t.TempDir()
	t.Setenv(installer.EnvLogs, logs)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := planted{md5Key: randomHex(t, 16), sharedKey: randomHex(t, 8),
		privatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}
	fileKey := randomHex(t, 12)
	testenv.WriteFile(t, filepath.Join(dir, "merchant.pem"), 0o600, p.privatePEM)
	testenv.WriteFile(t, filepath.Join(dir, "shared.key"), 0o600, fileKey+"\n")
	cfg := daemon.NewConfig()
	cfg.Gateway.MD5Key, cfg.Gateway.PrivateKeyFile = p.md5Key, filepath.Join(dir, "merchant.pem")
	cfg.Listen = []daemon.ListenConfig{{SharedKey: p.sharedKey}, {SharedKeyFile: filepath.Join(dir, "shared.key")}}
	sys := &fakeSystemLog{}
	var console bytes.Buffer
	l, err := openLogs(&console, cfg, logTarget{service: true,
		openSystem: func(string) (logging.SystemLog, error) { return sys, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(logs, installer.LogFileName); cfg.Daemon.LogFile != want {
		t.Fatalf("service log file %q, want the default %q", cfg.Daemon.LogFile, want)
	}
	pemLine := strings.Split(p.privatePEM, "\n")[2]
	log := l.Logger()
	logging.Lifecycle(log.Error()).Str("pem", p.privatePEM).Str("line", pemLine).Str("md5", p.md5Key).
		Str("shared", p.sharedKey).Str("file_key", fileKey).Msg("leak " + p.sharedKey)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"log file": readFile(t, cfg.Daemon.LogFile), "console": console.String(),
		"system log": strings.Join(sys.lines, "\n")}
	forms := append(p.forms(), fileKey)
	for name, out := range outputs {
		if !strings.Contains(out, logging.Redacted) || !strings.Contains(out, "leak") {
			t.Errorf("%s lacks the redacted line:\n%s", name, out)
		}
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("%s holds a secret %.12q…:\n%s", name, f, out)
			}
		}
	}
}

// TestRunLogsSkipShortSecrets: a secret the filter cannot hold (shorter
// than logging.MinSecretLen) does not stop the logs from opening; config
// validation refuses such a shared key instead.
func TestRunLogsSkipShortSecrets(t *testing.T) {
	cfg := daemon.NewConfig()
	cfg.Gateway.MD5Key = "k3y"
	cfg.Daemon.LogFile = filepath.Join(t.TempDir(), "t.log")
	l, err := openLogs(&bytes.Buffer{}, cfg, logTarget{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// TestCheckSecretsInlineKeyInConfig: an inline md5_key makes the config
// file a secret file: readable by others, the daemon refuses to start.
func TestCheckSecretsInlineKeyInConfig(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes: Windows checks the ACL instead")
	}
	file := filepath.Join(t.TempDir(), "tillbridge.toml")
	testenv.WriteFile(t, file, 0o644, "# inline key\n")
	cfg := daemon.NewConfig()
	if err := checkSecrets(file, cfg); err != nil {
		t.Fatalf("no inline key: %v", err)
	}
	cfg.Gateway.MD5Key = randomHex(t, 16)
	var insecure *installer.InsecureFileError
	if err := checkSecrets(file, cfg); !errors.As(err, &insecure) {
		t.Fatalf("inline key in a 0644 config: %v", err)
	}
	testenv.WriteFile(t, file, 0o600, "# inline key\n")
	if err := checkSecrets(file, cfg); err != nil {
		t.Fatalf("inline key in a 0600 config: %v", err)
	}
}
