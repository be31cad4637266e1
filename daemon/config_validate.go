package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/daemon/logging"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// Sentinel causes of a [FieldError], for errors.Is.
var (
	ErrRequired = errors.New("is required")
	ErrInvalid  = errors.New("is invalid")
	ErrConflict = errors.New("conflicts with another setting")
)

// FieldError is a validation error naming the config key at fault, e.g.
// "lane[2].printer".
type FieldError struct {
	Field string
	Err   error
}

// Error names the field and the problem.
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause (ErrRequired, ErrInvalid, ErrConflict…).
func (e *FieldError) Unwrap() error { return e.Err }

// ValidationError gathers every FieldError found in one pass.
type ValidationError struct{ Fields []*FieldError }

// Error lists every field error.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid config: " + strings.Join(parts, "; ")
}

// Unwrap exposes the field errors to errors.Is / errors.As.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f
	}
	return out
}

// checker collects field errors.
type checker struct{ errs []*FieldError }

func (c *checker) fail(field string, err error) { c.errs = append(c.errs, &FieldError{field, err}) }

func (c *checker) failf(field string, cause error, format string, args ...any) {
	c.fail(field, fmt.Errorf("%w: %s", cause, fmt.Sprintf(format, args...)))
}

func (c *checker) oneOf(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.failf(field, ErrInvalid, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

func (c *checker) positive(field string, v int64) {
	if v <= 0 {
		c.failf(field, ErrInvalid, "must be greater than zero")
	}
}

func (c *checker) nonNegative(field string, v int64) {
	if v < 0 {
		c.failf(field, ErrInvalid, "must not be negative")
	}
}

// Validate checks the whole configuration and returns a [*ValidationError]
// naming every field at fault. It checks structure only: key files and
// devices are opened by [New].
func (c *Config) Validate() error {
	ch := &checker{}
	c.Daemon.validate(ch)
	c.Gateway.validate(ch)
	c.Payment.validate(ch)
	c.ECR.validate(ch)
	for i, l := range c.Listen {
		l.validate(ch, fmt.Sprintf("listen[%d]", i))
	}
	c.validateLanes(ch)
	for name, p := range c.Printers {
		p.validate(ch, "printer."+name)
	}
	for name, s := range c.Scanners {
		s.validate(ch, "scanner."+name)
	}
	if err := c.Reconcile.WithDefaults().Validate(); err != nil {
		ch.fail("reconcile", err)
	}
	if err := c.Console.Validate(); err != nil {
		ch.fail("console", err)
	}
	if len(ch.errs) > 0 {
		return &ValidationError{Fields: ch.errs}
	}
	return nil
}

func (d DaemonConfig) validate(ch *checker) {
	ch.oneOf("daemon.log_level", d.LogLevel, "trace", "debug", "info", "warn", "error")
	ch.oneOf("daemon.log_format", d.LogFormat, "json", "console")
	ch.nonNegative("daemon.log_max_size_mb", int64(d.LogMaxSizeMB))
	ch.nonNegative("daemon.log_max_files", int64(d.LogMaxFiles))
	ch.nonNegative("daemon.log_max_age_days", int64(d.LogMaxAgeDays))
}

var partnerRE = regexp.MustCompile(`^2088[0-9]{12}$`)

func (g GatewayConfig) validate(ch *checker) {
	if u, err := url.Parse(g.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ch.failf("gateway.url", ErrInvalid, "%q is not an http(s) URL", g.URL)
	} else if alipay.InsecureGatewayURL(g.URL) && !g.InsecureHTTP {
		// Buyer codes would cross the network in clear, and anyone on the
		// path could drop, delay or forge the gateway's unsigned answers.
		ch.failf("gateway.url", ErrInvalid, "%q is plain http to a host that is not loopback "+
			"(127.0.0.0/8, ::1, localhost): use https, or set gateway.insecure_http = true on a test network", g.URL)
	}
	if !partnerRE.MatchString(g.Partner) {
		ch.failf("gateway.partner", ErrInvalid, "%q must be 16 digits starting with 2088", g.Partner)
	}
	ch.oneOf("gateway.sign_type", g.SignType, "MD5", "RSA", "RSA2")
	switch g.SignType {
	case "MD5":
		if g.MD5KeyFile == "" && g.MD5Key == "" {
			ch.fail("gateway.md5_key_file", ErrRequired)
		}
		if g.MD5KeyFile != "" && g.MD5Key != "" {
			ch.failf("gateway.md5_key", ErrConflict, "set md5_key_file or md5_key, not both")
		}
	case "RSA", "RSA2":
		if g.PrivateKeyFile == "" {
			ch.fail("gateway.private_key_file", ErrRequired)
		}
		if g.AlipayPublicKeyFile == "" {
			ch.fail("gateway.alipay_public_key_file", ErrRequired)
		}
	}
	ch.positive("gateway.timeout", int64(g.Timeout))
	ch.oneOf("gateway.charset", g.Charset, "UTF-8", "GBK", "GB2312")
}

func (p PaymentConfig) validate(ch *checker) {
	ch.positive("payment.first_query", int64(p.FirstQuery))
	ch.positive("payment.query_interval", int64(p.QueryInterval))
	ch.positive("payment.pay_deadline", int64(p.PayDeadline))
	ch.positive("payment.backoff_min", int64(p.BackoffMin))
	ch.positive("payment.backoff_max", int64(p.BackoffMax))
	ch.positive("payment.scan_timeout", int64(p.ScanTimeout))
	if p.BackoffMax < p.BackoffMin {
		ch.failf("payment.backoff_max", ErrInvalid, "must not be below backoff_min")
	}
	if p.FirstQuery >= p.PayDeadline {
		ch.failf("payment.first_query", ErrInvalid, "must be shorter than pay_deadline")
	}
	ch.nonNegative("payment.max_attempts", int64(p.MaxAttempts))
	ch.nonNegative("payment.max_pending_ops", int64(p.MaxPendingOps))
	for cur, v := range p.MaxPendingAmount {
		if len(cur) != 3 || strings.ToUpper(cur) != cur {
			ch.failf("payment.max_pending_amount."+cur, ErrInvalid, "not an upper-case ISO 4217 code")
		}
		ch.positive("payment.max_pending_amount."+cur, v)
	}
	ch.positive("payment.pending_expiry", int64(p.PendingExpiry))
	ch.positive("payment.cancel_wait", int64(p.CancelWait))
	if strings.TrimSpace(p.Subject) == "" {
		ch.fail("payment.subject", ErrRequired)
	}
}

func (e ECRConfig) validate(ch *checker) {
	ch.nonNegative("ecr.max_conns", int64(e.MaxConns))
	ch.nonNegative("ecr.local_reserve", int64(e.LocalReserve))
	if e.MaxConns > 0 && e.LocalReserve*2 > e.MaxConns {
		ch.failf("ecr.local_reserve", ErrConflict, "%d is more than half of ecr.max_conns (%d)", e.LocalReserve, e.MaxConns)
	}
}

func (l ListenConfig) validate(ch *checker, f string) {
	ch.oneOf(f+".network", l.Network, "tcp", "unix", "pipe")
	ch.nonNegative(f+".max_conns", int64(l.MaxConns))
	ch.nonNegative(f+".max_conns_per_peer", int64(l.MaxConnsPerPeer))
	ch.nonNegative(f+".hello_timeout", int64(l.HelloTimeout))
	if err := checkSharedKey(l.SharedKey); err != nil {
		ch.failf(f+".shared_key", ErrInvalid, "%v", err)
	}
	if l.Address == "" {
		ch.fail(f+".address", ErrRequired)
		return
	}
	if l.Mode != "" {
		if _, err := strconv.ParseUint(l.Mode, 8, 32); err != nil {
			ch.failf(f+".mode", ErrInvalid, "%q is not an octal mode like \"0660\"", l.Mode)
		}
	}
	if l.Network != "tcp" {
		return
	}
	host, _, err := net.SplitHostPort(l.Address)
	if err != nil {
		ch.failf(f+".address", ErrInvalid, "%q is not host:port", l.Address)
		return
	}
	if isLoopback(host) {
		return
	}
	if !l.AllowRemote {
		ch.failf(f+".address", ErrInvalid, "%q is not a loopback address; set allow_remote = true and a shared key", l.Address)
	} else if l.SharedKey == "" && l.SharedKeyFile == "" {
		ch.failf(f+".shared_key_file", ErrRequired, "a remote listener needs a shared key")
	}
}

// checkSharedKey refuses an ECR shared key shorter than ecrproto.MinKeyLen
// (16): the key is all that stands between a peer on the network and the
// payment commands, and a short one can be guessed even with the delay
// after failed HELLOs. (It is also well above logging.MinSecretLen, so the
// log filter can scrub it.) An empty key is not checked here (whether one
// is required depends on the address).
func checkSharedKey(key string) error {
	key = strings.TrimSpace(key)
	if key != "" && len(key) < max(ecrproto.MinKeyLen, logging.MinSecretLen) {
		return fmt.Errorf("the shared key has %d characters; it needs at least %d (a longer random key is better)",
			len(key), max(ecrproto.MinKeyLen, logging.MinSecretLen))
	}
	return nil
}

// isLoopback reports whether host names only the local machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validateLanes(ch *checker) {
	if len(c.Lanes) == 0 {
		ch.failf("lane", ErrRequired, "at least one [[lane]] is needed")
	}
	seen := map[string]bool{}
	scanners := map[string]string{}
	for i, l := range c.Lanes {
		f := fmt.Sprintf("lane[%d]", i)
		switch {
		case l.ID == "":
			ch.fail(f+".id", ErrRequired)
		case !ecrproto.ValidLane(l.ID):
			ch.failf(f+".id", ErrInvalid, "lane %q: a lane id is what the ECR sends in \"lane\": %s", l.ID, ecrproto.LaneRule)
		case seen[l.ID]:
			ch.failf(f+".id", ErrConflict, "lane %q is defined twice", l.ID)
		}
		seen[l.ID] = true
		if _, ok := c.Printers[l.Printer]; l.Printer != "" && !ok {
			ch.failf(f+".printer", ErrInvalid, "no [printer.%s] table", l.Printer)
		}
		if _, ok := c.Scanners[l.Scanner]; l.Scanner != "" && !ok {
			ch.failf(f+".scanner", ErrInvalid, "no [scanner.%s] table", l.Scanner)
		}
		if other, dup := scanners[l.Scanner]; l.Scanner != "" && dup {
			ch.failf(f+".scanner", ErrConflict, "scanner %q already serves lane %q; a scanner serves one lane", l.Scanner, other)
		}
		scanners[l.Scanner] = l.ID
	}
}

func (p PrinterConfig) validate(ch *checker, f string) {
	ch.oneOf(f+".backend", p.Backend, "usb", "serial", "network", "file", "spooler", "simulated")
	if p.Width != 58 && p.Width != 80 {
		ch.failf(f+".width", ErrInvalid, "%d: use 58 or 80 (mm)", p.Width)
	}
	need := map[string]struct {
		field string
		ok    bool
	}{
		"usb":     {"vid", p.VID != 0 && p.PID != 0},
		"serial":  {"device", p.Device != ""},
		"network": {"address", p.Address != ""},
		"file":    {"path", p.Path != ""},
		"spooler": {"spooler", p.Spooler != ""},
	}
	if n, ok := need[p.Backend]; ok && !n.ok {
		ch.failf(f+"."+n.field, ErrRequired, "backend %q needs it", p.Backend)
	}
	if p.Profile != "" {
		if _, err := escpos.LookupProfile(p.Profile); err != nil {
			ch.failf(f+".profile", ErrInvalid, "%v", err)
		}
	}
	if p.CodePage != "" {
		if _, err := escpos.ParseEncoding(p.CodePage); err != nil {
			ch.failf(f+".code_page", ErrInvalid, "%v", err)
		}
	}
}

func (s ScannerConfig) validate(ch *checker, f string) {
	ch.oneOf(f+".backend", s.Backend, "usb-hid", "hid-pos", "serial", "network", "simulated")
	switch s.Backend {
	case "usb-hid", "hid-pos":
		if s.VID == 0 || s.PID == 0 {
			ch.failf(f+".vid", ErrRequired, "backend %q needs vid and pid", s.Backend)
		}
	case "serial":
		if s.Device == "" {
			ch.fail(f+".device", ErrRequired)
		}
	case "network":
		if s.Address == "" {
			ch.fail(f+".address", ErrRequired)
		}
	}
	if s.Layout != "" {
		ch.oneOf(f+".layout", s.Layout, "us", "uk", "de", "fr")
	}
}
