package daemon

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/tillbridge/tillbridge/alipay"
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

// RedactedConfig is the running configuration without secrets.
func (d *Daemon) RedactedConfig() *Config { return RedactedConfig(d.cfg) }

// Secrets lists the daemon's configured secrets (see ConfigSecrets).
func (d *Daemon) Secrets() []string { return ConfigSecrets(d.cfg) }

// LogFile is the daemon's log file, "" when it logs to the console only.
func (d *Daemon) LogFile() string { return d.cfg.Daemon.LogFile }

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
