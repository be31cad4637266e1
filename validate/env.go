package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/daemon"
)

// Timings are the payment lifecycle and simulated-buyer timings of a run.
type Timings struct {
	Payment        daemon.PaymentConfig
	GatewayTimeout time.Duration
	// Sandbox tunes the in-process sandbox's scenario delays.
	Sandbox sandbox.Config
}

// QuickTimings are the shortened timings of an unattended sandbox run: the
// same lifecycle as production (query, poll, deadline, cancel, backoff),
// scaled down so the whole run takes seconds.
func QuickTimings() Timings {
	p := daemon.NewConfig().Payment
	p.FirstQuery, p.QueryInterval, p.PayDeadline = 100*time.Millisecond, 100*time.Millisecond, 3*time.Second
	p.BackoffMin, p.BackoffMax, p.CancelWait = 50*time.Millisecond, 200*time.Millisecond, 10*time.Second
	p.ScanTimeout = 30 * time.Second
	return Timings{Payment: p, GatewayTimeout: 700 * time.Millisecond,
		Sandbox: sandbox.Config{ConfirmDelay: 400 * time.Millisecond, RejectDelay: 300 * time.Millisecond,
			SlowPayDelay: 1500 * time.Millisecond, AutoClose: time.Minute}}
}

// RealTimings are the production defaults (seconds to a minute per case).
func RealTimings() Timings {
	c := daemon.NewConfig()
	return Timings{Payment: c.Payment, GatewayTimeout: c.Gateway.Timeout}
}

// env is the system under test: the real daemon, in this process, with
// its gateway URL pointing at the recorder, and the sandbox when the run
// is against it.
type env struct {
	cfg     *daemon.Config
	d       *daemon.Daemon
	sb      *daemon.Sandbox
	rec     *recorder
	ecrAddr string
	origURL string
	stop    context.CancelFunc
	done    chan error
	logFile *os.File
}

// startEnv builds the configuration, starts the recorder and the daemon,
// and waits until the daemon is ready.
func startEnv(ctx context.Context, o *Options, dataDir string) (*env, error) {
	e := &env{done: make(chan error, 1)}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	switch o.Against {
	case AgainstSandbox:
		sb, err := daemon.StartSandbox(daemon.SandboxOptions{DataDir: dataDir, ECRListen: "127.0.0.1:0",
			SandboxListen: "127.0.0.1:0", Lanes: 2, Payment: &o.Timings.Payment,
			GatewayTimeout: o.Timings.GatewayTimeout, Gateway: o.Timings.Sandbox})
		if err != nil {
			return nil, err
		}
		e.sb, e.cfg = sb, sb.Config
		if o.Config != nil { // the venue's merchant fields and receipt against the sandbox
			g := o.Config.Gateway
			e.cfg.Gateway.SecondaryMerchantID, e.cfg.Gateway.SecondaryMerchantName = g.SecondaryMerchantID, g.SecondaryMerchantName
			e.cfg.Gateway.SecondaryMerchantIndustry, e.cfg.Gateway.StoreID, e.cfg.Gateway.StoreName = g.SecondaryMerchantIndustry, g.StoreID, g.StoreName
			e.cfg.Receipt = o.Config.Receipt
		}
	case AgainstConfigured:
		if o.Config == nil {
			return nil, &UsageError{Msg: "--against configured needs a configuration (--config)"}
		}
		c := *o.Config
		c.Daemon.DataDir, c.Daemon.LogFile = dataDir, ""
		c.Control.Socket = ""
		e.cfg = &c
	default:
		return nil, &UsageError{Msg: fmt.Sprintf("--against %q: want sandbox or configured", o.Against)}
	}
	e.origURL = e.cfg.Gateway.URL
	rec, err := startRecorder(e.cfg.Gateway.URL)
	if err != nil {
		e.close()
		return nil, err
	}
	e.rec = rec
	e.cfg.Gateway.URL = rec.URL()
	lf, err := os.OpenFile(filepath.Join(dataDir, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("daemon log: %w", err)
	}
	e.logFile = lf
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.close()
		return nil, fmt.Errorf("ecr listen: %w", err)
	}
	ready := make(chan []net.Addr, 1)
	d, err := daemon.New(e.cfg, daemon.Options{Logger: zerolog.New(lf).With().Timestamp().Logger(),
		Listeners: []net.Listener{ln}, Version: o.Version, OnReady: func(a []net.Addr) { ready <- a }})
	if err != nil {
		ln.Close()
		e.close()
		return nil, fmt.Errorf("daemon: %w", err)
	}
	e.d = d
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.stop = stop
	go func() { e.done <- d.Run(rctx) }()
	select {
	case a := <-ready:
		e.ecrAddr = a[0].String()
	case err := <-e.done:
		e.stop, e.d = nil, nil
		e.close()
		return nil, fmt.Errorf("daemon stopped during start-up: %w", err)
	case <-time.After(time.Minute):
		e.close()
		return nil, errors.New("daemon not ready within a minute")
	}
	return e, nil
}

// close stops the daemon, the recorder and the sandbox.
func (e *env) close() {
	if e.stop != nil {
		e.stop()
		select {
		case <-e.done:
		case <-time.After(30 * time.Second):
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if e.rec != nil {
		_ = e.rec.Close(ctx)
	}
	if e.sb != nil {
		_ = e.sb.Close(ctx)
	}
	if e.logFile != nil {
		_ = e.logFile.Close()
	}
}

// ledger reads the sandbox's ledger over its HTTP API, by partner_trans_id.
// ok is false against a gateway without one.
func (e *env) ledger(ctx context.Context) (map[string]sandbox.Trade, bool, error) {
	if e.sb == nil {
		return nil, false, nil
	}
	return readLedger(ctx, e.sb.URL)
}

// readLedger reads GET base/sandbox/trades.
func readLedger(ctx context.Context, base string) (map[string]sandbox.Trade, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sandbox/trades", nil)
	if err != nil {
		return nil, true, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("sandbox ledger: %w", err)
	}
	defer resp.Body.Close()
	var trades []sandbox.Trade
	if err := json.NewDecoder(resp.Body).Decode(&trades); err != nil {
		return nil, true, fmt.Errorf("sandbox ledger: %w", err)
	}
	out := make(map[string]sandbox.Trade, len(trades))
	for _, t := range trades {
		out[t.PartnerTransID] = t
	}
	return out, true, nil
}

// printerFile is the ESC/POS file a lane's printer writes, if it is a
// file printer.
func (e *env) printerFile(lane string) (string, int) {
	l, ok := e.cfg.Lane(lane)
	if !ok {
		return "", 0
	}
	p, ok := e.cfg.Printers[l.Printer]
	if !ok || p.Backend != "file" {
		return "", 0
	}
	return p.Path, p.Width
}
