package daemon

import (
	"time"

	"github.com/tillbridge/tillbridge/console"
	"github.com/tillbridge/tillbridge/recon"
)

// Config is the whole daemon configuration, as read from the TOML file
// (see tillbridge.sample.toml and docs/configuration.md). Build it with
// [NewConfig] (defaults), [LoadConfig] or [DecodeConfig]; check it with
// [Config.Validate]. Keep the sample file and the documentation in step with
// every field added here.
type Config struct {
	Daemon   DaemonConfig             `toml:"daemon"`
	Gateway  GatewayConfig            `toml:"gateway"`
	Payment  PaymentConfig            `toml:"payment"`
	ECR      ECRConfig                `toml:"ecr"`
	Listen   []ListenConfig           `toml:"listen"`
	Lanes    []LaneConfig             `toml:"lane"`
	Printers map[string]PrinterConfig `toml:"printer"`
	Scanners map[string]ScannerConfig `toml:"scanner"`
	Receipt  ReceiptConfig            `toml:"receipt"`
	Control  ControlConfig            `toml:"control"`
	// Reconcile is the [reconcile] table: the daily check of the journal
	// against Alipay's files (docs/reconciliation.md).
	Reconcile recon.Config `toml:"reconcile"`
	// Console is the [console] table: the browser console
	// (docs/console.md); off by default.
	Console console.Config `toml:"console"`
}

// DaemonConfig is the [daemon] table: where state lives and how to log.
type DaemonConfig struct {
	// DataDir holds the journal, receipts and (in sandbox mode) the sandbox
	// state. Empty means the platform default chosen by the caller.
	DataDir string `toml:"data_dir"`
	// LogLevel is one of trace, debug, info, warn, error.
	LogLevel string `toml:"log_level"`
	// LogFile is the rotating JSON log file; empty logs to the console only.
	LogFile string `toml:"log_file"`
	// LogFormat is "json" or "console" for the console output.
	LogFormat string `toml:"log_format"`
	// LogMaxSizeMB, LogMaxFiles and LogMaxAgeDays bound the rotation.
	LogMaxSizeMB  int `toml:"log_max_size_mb"`
	LogMaxFiles   int `toml:"log_max_files"`
	LogMaxAgeDays int `toml:"log_max_age_days"`
}

// GatewayConfig is the [gateway] table: how to reach and sign for Alipay.
type GatewayConfig struct {
	URL string `toml:"url"`
	// InsecureHTTP allows a plain http:// URL to a host that is not
	// loopback (a test network); start-up then logs a warning. Without it
	// such a URL is a config error.
	InsecureHTTP bool   `toml:"insecure_http"`
	Partner      string `toml:"partner"`
	SignType     string `toml:"sign_type"` // MD5, RSA or RSA2
	// MD5KeyFile names a file holding the MD5 key; MD5Key (inline) is
	// accepted but discouraged: the config file is less protected.
	MD5KeyFile string `toml:"md5_key_file"`
	MD5Key     string `toml:"md5_key"`
	// PrivateKeyFile and AlipayPublicKeyFile are PEM files for RSA/RSA2.
	PrivateKeyFile      string        `toml:"private_key_file"`
	AlipayPublicKeyFile string        `toml:"alipay_public_key_file"`
	Timeout             time.Duration `toml:"timeout"`
	Charset             string        `toml:"charset"`
	// The extend_info fields sent with every payment.
	SecondaryMerchantID       string `toml:"secondary_merchant_id"`
	SecondaryMerchantName     string `toml:"secondary_merchant_name"`
	SecondaryMerchantIndustry string `toml:"secondary_merchant_industry"`
	StoreID                   string `toml:"store_id"`
	StoreName                 string `toml:"store_name"`
}

// PaymentConfig is the [payment] table: the sale lifecycle timings and the
// store-and-forward limits.
type PaymentConfig struct {
	FirstQuery    time.Duration `toml:"first_query"`
	QueryInterval time.Duration `toml:"query_interval"`
	PayDeadline   time.Duration `toml:"pay_deadline"`
	BackoffMin    time.Duration `toml:"backoff_min"`
	BackoffMax    time.Duration `toml:"backoff_max"`
	// MaxAttempts bounds cancel/refund attempts before MANUAL; 0 = no bound.
	MaxAttempts int `toml:"max_attempts"`
	// ScanTimeout is how long a lane waits for the customer's code.
	ScanTimeout time.Duration `toml:"scan_timeout"`
	// Subject is the trans_name sent when the SALE carries no subject.
	Subject string `toml:"subject"`
	// CancelWait is how long an ECR request waits for a cancel the daemon
	// has durably taken on before it answers CANCELLED (reason
	// CANCEL_QUEUED) and leaves the cancel to the journal.
	CancelWait time.Duration `toml:"cancel_wait"`
	// MaxPendingOps caps the non-final operations (0 = no cap);
	// MaxPendingAmount caps their sum per currency, in minor units (a
	// currency not listed has no cap). PendingExpiry turns an operation
	// still not final after it into MANUAL.
	MaxPendingOps    int              `toml:"max_pending_ops"`
	MaxPendingAmount map[string]int64 `toml:"max_pending_amount"`
	PendingExpiry    time.Duration    `toml:"pending_expiry"`
}

// ECRConfig is the [ecr] table: limits of the ECR server over all its
// listeners.
type ECRConfig struct {
	// MaxConns caps all ECR connections together; 0 means the larger of
	// 64 and 2 per lane + 16.
	MaxConns int `toml:"max_conns"`
	// LocalReserve is how many of MaxConns only local listeners (loopback
	// tcp without a shared key, unix, pipe) may use; 0 means 16 (at most
	// half of MaxConns).
	LocalReserve int `toml:"local_reserve"`
}

// ListenConfig is one [[listen]] entry: an ECR listener.
type ListenConfig struct {
	// Network is tcp, unix or pipe.
	Network string `toml:"network"`
	// Address is host:port for tcp, a path for unix, a pipe name for pipe.
	Address string `toml:"address"`
	// AllowRemote permits a non-loopback tcp address; SharedKey (or
	// SharedKeyFile) is then required.
	AllowRemote   bool   `toml:"allow_remote"`
	SharedKey     string `toml:"shared_key"`
	SharedKeyFile string `toml:"shared_key_file"`
	// MaxConns, MaxConnsPerPeer and HelloTimeout limit a listener with a
	// shared key (a remote listener); 0 means ecrproto's defaults (16, 4
	// per IP address, 10s).
	MaxConns        int           `toml:"max_conns"`
	MaxConnsPerPeer int           `toml:"max_conns_per_peer"`
	HelloTimeout    time.Duration `toml:"hello_timeout"`
	// Mode is the unix socket's permission bits as an octal string ("0660").
	Mode string `toml:"mode"`
	// Group may open the socket or pipe besides the service account.
	Group string `toml:"group"`
}

// LaneConfig is one [[lane]] entry: a till.
type LaneConfig struct {
	ID         string `toml:"id"`
	TerminalID string `toml:"terminal_id"`
	StoreID    string `toml:"store_id"`
	StoreName  string `toml:"store_name"`
	// Printer and Scanner name a [printer.NAME] / [scanner.NAME] table;
	// empty means the lane has none (scans come from the ECR).
	Printer string `toml:"printer"`
	Scanner string `toml:"scanner"`
}

// PrinterConfig is a [printer.NAME] table: one receipt printer.
type PrinterConfig struct {
	// Backend is usb, serial, network, file, spooler or simulated.
	Backend string `toml:"backend"`
	Profile string `toml:"profile"`
	// Width is the paper width in millimetres: 58 or 80.
	Width  int  `toml:"width"`
	OneWay bool `toml:"one_way"`
	// VID and PID select a USB printer; Serial narrows to one unit.
	VID    uint16 `toml:"vid"`
	PID    uint16 `toml:"pid"`
	Serial string `toml:"serial"`
	// Device is the serial port, Path the output file, Address host:port of
	// a network printer, Spooler the Windows printer name.
	Device  string `toml:"device"`
	Baud    int    `toml:"baud"`
	Path    string `toml:"path"`
	Address string `toml:"address"`
	Spooler string `toml:"spooler"`
	// CodePage overrides the profile's code page (cp437, pc858, gb18030, utf8).
	CodePage string `toml:"code_page"`
	// Drawer kicks the cash drawer after an approved sale.
	Drawer bool `toml:"drawer"`
}

// ScannerConfig is a [scanner.NAME] table: one barcode scanner.
type ScannerConfig struct {
	// Backend is usb-hid, hid-pos, serial, network or simulated.
	Backend string `toml:"backend"`
	VID     uint16 `toml:"vid"`
	PID     uint16 `toml:"pid"`
	Serial  string `toml:"serial"`
	// Layout is the keyboard layout of a keyboard-wedge scanner (us, uk, de, fr).
	Layout  string `toml:"layout"`
	Device  string `toml:"device"`
	Baud    int    `toml:"baud"`
	Address string `toml:"address"`
}

// ReceiptConfig is the [receipt] table: the texts around every receipt.
type ReceiptConfig struct {
	Venue  string   `toml:"venue"`
	Lines  []string `toml:"lines"`
	Footer []string `toml:"footer"`
	// QR prints a QR code of the ticket ref.
	QR bool `toml:"qr"`
}

// ControlConfig is the [control] table: the technician control API.
type ControlConfig struct {
	// Socket is the unix socket path (or pipe name on Windows); empty
	// means DATA/control.sock (or the default pipe).
	Socket string `toml:"socket"`
}

// Defaults of the configuration (the seed's figures).
const (
	DefaultECRAddress    = "127.0.0.1:7420"
	DefaultGatewayURL    = "https://globalmapi.alipay.com/gateway.do"
	DefaultGatewayTime   = 15 * time.Second
	DefaultFirstQuery    = 3500 * time.Millisecond
	DefaultQueryInterval = 3500 * time.Millisecond
	DefaultPayDeadline   = 60 * time.Second
	DefaultBackoffMin    = 2 * time.Second
	DefaultBackoffMax    = 5 * time.Minute
	DefaultScanTimeout   = 120 * time.Second
	DefaultCancelWait    = 15 * time.Second
	DefaultPendingExpiry = 7 * 24 * time.Hour
	DefaultSubject       = "Tickets"
)

// NewConfig returns a Config holding every default; a file decoded on top
// of it overrides only what it sets.
func NewConfig() *Config {
	return &Config{
		Daemon: DaemonConfig{LogLevel: "info", LogFormat: "console",
			LogMaxSizeMB: 10, LogMaxFiles: 10, LogMaxAgeDays: 30},
		Gateway: GatewayConfig{URL: DefaultGatewayURL, SignType: "MD5",
			Timeout: DefaultGatewayTime, Charset: "UTF-8"},
		Payment: PaymentConfig{FirstQuery: DefaultFirstQuery, QueryInterval: DefaultQueryInterval,
			PayDeadline: DefaultPayDeadline, BackoffMin: DefaultBackoffMin, BackoffMax: DefaultBackoffMax,
			ScanTimeout: DefaultScanTimeout, Subject: DefaultSubject, CancelWait: DefaultCancelWait,
			PendingExpiry: DefaultPendingExpiry},
		Receipt: ReceiptConfig{QR: true},
	}
}

// applyDefaults fills what depends on the decoded content: a default
// listener, listener networks and printer widths.
func (c *Config) applyDefaults() {
	if len(c.Listen) == 0 {
		c.Listen = []ListenConfig{{Network: "tcp", Address: DefaultECRAddress}}
	}
	for i := range c.Listen {
		l := &c.Listen[i]
		if l.Network == "" {
			l.Network = "tcp"
		}
		if l.Network == "tcp" && l.Address == "" {
			l.Address = DefaultECRAddress
		}
	}
	for i := range c.Lanes {
		if c.Lanes[i].TerminalID == "" {
			c.Lanes[i].TerminalID = c.Lanes[i].ID
		}
	}
	for name, p := range c.Printers {
		if p.Width == 0 {
			p.Width = 80
		}
		c.Printers[name] = p
	}
}

// Lane returns the configuration of lane id.
func (c *Config) Lane(id string) (LaneConfig, bool) {
	for _, l := range c.Lanes {
		if l.ID == id {
			return l, true
		}
	}
	return LaneConfig{}, false
}
