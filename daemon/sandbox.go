package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// Sandbox-mode defaults.
const (
	DefaultSandboxListen = "127.0.0.1:7430"
	DefaultSandboxLanes  = 4
	// SandboxPartner is the partner id the embedded sandbox accepts.
	SandboxPartner = "2088000000007430"
	// SandboxKeyFile and SandboxStateFile (SQLite) live in the data
	// directory. SandboxLegacyStateFile, the JSON state of earlier
	// versions, is imported into a new SandboxStateFile once.
	SandboxKeyFile         = "sandbox-md5.key"
	SandboxStateFile       = "sandbox-state.db"
	SandboxLegacyStateFile = "sandbox-state.json"
)

// SandboxOptions configure `tillbridge run --sandbox`: the daemon on its
// embedded default, the sandbox gateway in-process.
type SandboxOptions struct {
	// DataDir holds the journal, the sandbox state and key, and receipts.
	DataDir string
	// ECRListen is the ECR TCP address (default 127.0.0.1:7420).
	ECRListen string
	// SandboxListen serves the gateway and its /sandbox/ fault and ledger
	// API (default 127.0.0.1:7430).
	SandboxListen string
	// Lanes is the number of lanes, "1".."N" (default 4).
	Lanes int
	// Payment, when not nil, replaces the payment timings (tests and demos
	// shorten them); GatewayTimeout likewise the gateway call timeout.
	Payment        *PaymentConfig
	GatewayTimeout time.Duration
	// Gateway tunes the simulator (scenario delays, auto-close); Partner,
	// MD5Key, StateFile and ImportStateFile are set here.
	Gateway sandbox.Config
}

// Sandbox is the in-process gateway of sandbox mode and the daemon
// configuration that points at it.
type Sandbox struct {
	// Config is the daemon configuration for the sandbox run.
	Config *Config
	// URL is the sandbox's base URL, e.g. http://127.0.0.1:7430; the
	// ledger is URL + "/sandbox/trades".
	URL string
	srv *sandbox.Server
	hs  *http.Server
}

// StartSandbox prepares the data directory, starts the sandbox gateway on
// SandboxListen (its state kept in the data directory, so a daemon killed
// and restarted meets the gateway as it was) and builds the configuration:
// a generated MD5 key (kept, mode 0600), a simulated scanner and a
// file-backed ESC/POS printer per lane (DATA/receipts/lane-N.escpos).
func StartSandbox(o SandboxOptions) (*Sandbox, error) {
	if o.DataDir == "" {
		return nil, &FieldError{Field: "data", Err: ErrRequired}
	}
	o = o.withDefaults()
	if err := os.MkdirAll(filepath.Join(o.DataDir, "receipts"), 0o700); err != nil {
		return nil, fmt.Errorf("sandbox data dir: %w", err)
	}
	keyFile := filepath.Join(o.DataDir, SandboxKeyFile)
	key, err := LoadOrCreateKey(keyFile)
	if err != nil {
		return nil, err
	}
	gc := o.Gateway
	gc.Partner, gc.MD5Key = SandboxPartner, key
	gc.StateFile = filepath.Join(o.DataDir, SandboxStateFile)
	gc.ImportStateFile = filepath.Join(o.DataDir, SandboxLegacyStateFile)
	srv, err := sandbox.New(gc)
	if err != nil {
		return nil, fmt.Errorf("sandbox gateway: %w", err)
	}
	ln, err := net.Listen("tcp", o.SandboxListen)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("sandbox listen: %w", err)
	}
	sb := &Sandbox{URL: "http://" + ln.Addr().String(), srv: srv,
		hs: &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := sb.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the daemon's gateway calls will report the outage
		}
	}()
	sb.Config = sandboxConfig(o, sb.URL+"/gateway.do", keyFile)
	return sb, nil
}

func (o SandboxOptions) withDefaults() SandboxOptions {
	if o.ECRListen == "" {
		o.ECRListen = DefaultECRAddress
	}
	if o.SandboxListen == "" {
		o.SandboxListen = DefaultSandboxListen
	}
	if o.Lanes <= 0 {
		o.Lanes = DefaultSandboxLanes
	}
	return o
}

// sandboxConfig is the daemon configuration of a sandbox run.
func sandboxConfig(o SandboxOptions, gatewayURL, keyFile string) *Config {
	c := NewConfig()
	c.Daemon.DataDir = o.DataDir
	c.Gateway.URL, c.Gateway.Partner, c.Gateway.MD5KeyFile = gatewayURL, SandboxPartner, keyFile
	// The sandbox runs in this process; listening beyond loopback (an
	// explicit --sandbox-listen) is a deliberate test setup, with the
	// start-up warning of gateway.insecure_http.
	c.Gateway.InsecureHTTP = alipay.InsecureGatewayURL(gatewayURL)
	c.Gateway.SecondaryMerchantID, c.Gateway.SecondaryMerchantName = "SANDBOX-VENUE", "tillbridge sandbox venue"
	c.Gateway.SecondaryMerchantIndustry, c.Gateway.StoreID, c.Gateway.StoreName = "7991", "SANDBOX-01", "Sandbox gate"
	if o.GatewayTimeout > 0 {
		c.Gateway.Timeout = o.GatewayTimeout
	}
	if o.Payment != nil {
		c.Payment = *o.Payment
	}
	c.Listen = []ListenConfig{{Network: "tcp", Address: o.ECRListen}}
	c.Printers, c.Scanners = map[string]PrinterConfig{}, map[string]ScannerConfig{}
	for i := 1; i <= o.Lanes; i++ {
		id := strconv.Itoa(i)
		name := "lane-" + id
		c.Printers[name] = PrinterConfig{Backend: "file", Width: 80,
			Path: filepath.Join(o.DataDir, "receipts", name+".escpos")}
		c.Scanners[name] = ScannerConfig{Backend: "simulated"}
		c.Lanes = append(c.Lanes, LaneConfig{ID: id, TerminalID: "SANDBOX-" + id, Printer: name, Scanner: name})
	}
	c.Receipt = ReceiptConfig{Venue: "tillbridge sandbox venue", Lines: []string{"not a real payment"},
		Footer: []string{"Thank you for testing tillbridge"}, QR: true}
	return c
}

// Server returns the simulator (the ledger, faults).
func (s *Sandbox) Server() *sandbox.Server { return s.srv }

// Close stops the sandbox's HTTP server and closes its state file.
func (s *Sandbox) Close(ctx context.Context) error {
	err := s.hs.Shutdown(ctx)
	return errors.Join(err, s.srv.Close())
}
