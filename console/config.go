package console

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Defaults of the [console] table.
const (
	// DefaultListen is where the console listens when enabled without an
	// address (sandbox mode turns it on there).
	DefaultListen = "127.0.0.1:7440"
	// DefaultSessionTTL is how long a browser stays logged in.
	DefaultSessionTTL = 8 * time.Hour
	// TokenTTL is how long a one-time login link is good for.
	TokenTTL = 5 * time.Minute
)

// Config is the daemon configuration's [console] table: the local
// technician console in the browser (docs/console.md). It is off by
// default; when on it listens on loopback only, unless a TLS certificate
// and key are configured.
type Config struct {
	// Enabled turns the console on.
	Enabled bool `toml:"enabled"`
	// Listen is the TCP address; empty means DefaultListen.
	Listen string `toml:"listen"`
	// Hosts are the host names (without port) a browser may use besides
	// localhost and the listen address's IP; any other Host header is
	// refused (DNS rebinding).
	Hosts []string `toml:"hosts"`
	// TLSCert and TLSKey are PEM files; both or neither. Required for a
	// listen address that is not loopback.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// SessionTTL is how long a login lasts; zero means DefaultSessionTTL.
	SessionTTL time.Duration `toml:"session_ttl"`
	// ValidationDir is the folder of `tillbridge validate --out` reports
	// the console lists; empty hides the page.
	ValidationDir string `toml:"validation_dir"`
}

// ListenAddr is the configured address or DefaultListen.
func (c Config) ListenAddr() string {
	if c.Listen == "" {
		return DefaultListen
	}
	return c.Listen
}

// TLS reports whether the console serves HTTPS.
func (c Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// ttl is the session lifetime.
func (c Config) ttl() time.Duration {
	if c.SessionTTL <= 0 {
		return DefaultSessionTTL
	}
	return c.SessionTTL
}

// Validate checks the table; a disabled console is always valid.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert and tls_key go together")
	}
	if c.SessionTTL < 0 {
		return errors.New("session_ttl must not be negative")
	}
	host, _, err := net.SplitHostPort(c.ListenAddr())
	if err != nil {
		return fmt.Errorf("listen %q: %w", c.ListenAddr(), err)
	}
	if !isLoopback(host) && !c.TLS() {
		return fmt.Errorf("listen %q is not loopback: configure tls_cert and tls_key, or listen on 127.0.0.1", c.ListenAddr())
	}
	for _, h := range c.Hosts {
		if h == "" || strings.ContainsAny(h, ":/ ") {
			return fmt.Errorf("hosts: %q is not a host name (no port, no scheme)", h)
		}
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
