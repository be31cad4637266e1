package daemon

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/control"
)

// RedactedValue replaces every inline secret in a redacted configuration.
const RedactedValue = "[REDACTED]"

// RedactedConfig returns a copy of cfg without its inline secrets (the MD5
// key, listeners' shared keys). Key file paths are kept: they are not
// secrets, and a technician needs them.
func RedactedConfig(cfg *Config) *Config {
	c := *cfg
	c.Listen = slices.Clone(cfg.Listen)
	c.Lanes = slices.Clone(cfg.Lanes)
	c.Printers = maps.Clone(cfg.Printers)
	c.Scanners = maps.Clone(cfg.Scanners)
	c.Payment.MaxPendingAmount = maps.Clone(cfg.Payment.MaxPendingAmount)
	c.Receipt.Lines = slices.Clone(cfg.Receipt.Lines)
	c.Receipt.Footer = slices.Clone(cfg.Receipt.Footer)
	if c.Gateway.MD5Key != "" {
		c.Gateway.MD5Key = RedactedValue
	}
	for i := range c.Listen {
		if c.Listen[i].SharedKey != "" {
			c.Listen[i].SharedKey = RedactedValue
		}
	}
	return &c
}

// ConfigSecrets returns every secret cfg configures: inline keys and the
// contents of the MD5, private key and shared key files (files that cannot
// be read are skipped). The public key is not a secret.
func ConfigSecrets(cfg *Config) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	addFile := func(path string) {
		if path == "" {
			return
		}
		if b, err := os.ReadFile(path); err == nil {
			add(string(b))
		}
	}
	add(cfg.Gateway.MD5Key)
	addFile(cfg.Gateway.MD5KeyFile)
	addFile(cfg.Gateway.PrivateKeyFile)
	for _, l := range cfg.Listen {
		add(l.SharedKey)
		addFile(l.SharedKeyFile)
	}
	return out
}

// Support is what a support bundle takes from the running daemon.
func (d *Daemon) Support() control.SupportInfo { return supportInfo(d.cfg) }

// supportInfo is cfg's part of a support bundle: the configuration as TOML
// without inline keys, the secrets to redact, the log and journal files.
func supportInfo(cfg *Config) control.SupportInfo {
	info := control.SupportInfo{Secrets: ConfigSecrets(cfg), LogFile: cfg.Daemon.LogFile,
		JournalFile: filepath.Join(cfg.Daemon.DataDir, JournalFile)}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(RedactedConfig(cfg)); err != nil {
		info.ConfigErr = err
	} else {
		info.Config = buf.Bytes()
	}
	return info
}

// CheckGatewayKeys reads the gateway's key files as the daemon would at
// start-up and builds the Alipay client from them, so `tillbridge config
// check` finds an unreadable, empty or malformed key before a restart does.
func CheckGatewayKeys(g GatewayConfig) error {
	c, err := alipayConfig(g)
	if err != nil {
		return err
	}
	if _, err := alipay.NewClient(c); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}
