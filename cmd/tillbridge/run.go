package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/tillbridge/tillbridge/console"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/daemon/datalock"
	"github.com/tillbridge/tillbridge/daemon/logging"
	"github.com/tillbridge/tillbridge/installer"
)

func runCommand() command {
	return command{
		name:    "run",
		summary: "run the daemon (--sandbox: on the built-in Alipay sandbox, no config needed)",
		run:     runRun,
	}
}

// runFlags are the flags of `tillbridge run`.
type runFlags struct {
	config, data, logLevel           string
	sandbox                          bool
	ecrListen, sandboxListen         string
	consoleListen                    string
	lanes                            int
	firstQuery, queryInterval        time.Duration
	payDeadline, backoffMin          time.Duration
	backoffMax, cancelWait, scanWait time.Duration
	gatewayTimeout                   time.Duration
	confirmDelay, rejectDelay        time.Duration
	slowPay, autoClose               time.Duration
}

const runUsage = `usage: tillbridge run [--config FILE] [--log-level LEVEL]
       tillbridge run --sandbox [--data DIR] [--ecr-listen ADDR] [--sandbox-listen ADDR] [--lanes N]

Runs the daemon in the foreground, or as the system service when started by
the service manager. --config (default: the installed configuration) is the
production mode. --sandbox needs no configuration: it runs the Alipay sandbox
gateway in-process (its fault and ledger API under /sandbox/ on
--sandbox-listen), simulated scanners and file-backed receipt printers
(DATA/receipts/lane-N.escpos), lanes "1".."N", and prints how to send a test
sale. The sandbox keeps its state in DATA, so a daemon killed and restarted
on the same --data meets the gateway as it was.

Timing flags (sandbox mode only; for tests and demos) shorten the payment
lifecycle and the simulated buyer's delays.

Examples:
  tillbridge run --sandbox --data ./.run
  tillbridge run --config /etc/tillbridge/tillbridge.toml

Flags:
`

func (f *runFlags) register(fs *flag.FlagSet) {
	paths := installer.DefaultPaths()
	fs.StringVar(&f.config, "config", paths.Config, "configuration `file` (production mode)")
	fs.StringVar(&f.data, "data", "", "data `dir` (default: the config's data_dir, else "+paths.Data+")")
	fs.StringVar(&f.logLevel, "log-level", "", "log `level`: trace, debug, info, warn, error (overrides the config)")
	fs.BoolVar(&f.sandbox, "sandbox", false, "run on the built-in Alipay sandbox gateway with simulated devices")
	fs.StringVar(&f.ecrListen, "ecr-listen", daemon.DefaultECRAddress, "sandbox: ECR TCP `address`")
	fs.StringVar(&f.sandboxListen, "sandbox-listen", daemon.DefaultSandboxListen, "sandbox: gateway and /sandbox/ API `address`")
	fs.IntVar(&f.lanes, "lanes", daemon.DefaultSandboxLanes, "sandbox: number of lanes")
	fs.StringVar(&f.consoleListen, "console-listen", console.DefaultListen, "sandbox: browser console `address` on loopback (\"off\": no console)")
	fs.DurationVar(&f.firstQuery, "first-query", daemon.DefaultFirstQuery, "sandbox: first query after the pay")
	fs.DurationVar(&f.queryInterval, "query-interval", daemon.DefaultQueryInterval, "sandbox: query interval")
	fs.DurationVar(&f.payDeadline, "pay-deadline", daemon.DefaultPayDeadline, "sandbox: cancel when still unknown after this")
	fs.DurationVar(&f.backoffMin, "backoff-min", daemon.DefaultBackoffMin, "sandbox: cancel/refund retry backoff start")
	fs.DurationVar(&f.backoffMax, "backoff-max", daemon.DefaultBackoffMax, "sandbox: cancel/refund retry backoff cap")
	fs.DurationVar(&f.cancelWait, "cancel-wait", daemon.DefaultCancelWait, "sandbox: ECR wait for a cancel's confirmation")
	fs.DurationVar(&f.scanWait, "scan-timeout", daemon.DefaultScanTimeout, "sandbox: wait for the payment code")
	fs.DurationVar(&f.gatewayTimeout, "gateway-timeout", daemon.DefaultGatewayTime, "sandbox: gateway call timeout")
	fs.DurationVar(&f.confirmDelay, "sandbox-confirm-delay", 0, "sandbox: buyer confirmation delay of codes ending 10/33 (default 8s)")
	fs.DurationVar(&f.rejectDelay, "sandbox-reject-delay", 0, "sandbox: buyer rejection delay of codes ending 12 (default 5s)")
	fs.DurationVar(&f.slowPay, "sandbox-slow-pay", 0, "sandbox: held-back pay answer of codes ending 35 (default 20s)")
	fs.DurationVar(&f.autoClose, "sandbox-auto-close", 0, "sandbox: auto-close of unpaid trades (default 3m)")
}

func runRun(ctx context.Context, cio cmdIO, args []string) error {
	var f runFlags
	fs := newFlagSet("run", runUsage, cio)
	f.register(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var err error
	if f.sandbox {
		err = runSandboxMode(ctx, cio, f)
	} else {
		err = runProductionMode(ctx, cio, f)
	}
	if errors.Is(err, datalock.ErrHeld) {
		return &exitError{code: exitDataInUse, err: err}
	}
	return err
}

// runSandboxMode runs the daemon on the in-process sandbox gateway.
func runSandboxMode(ctx context.Context, cio cmdIO, f runFlags) error {
	if f.data == "" {
		f.data = installer.DefaultPaths().Data
	}
	data, err := filepath.Abs(f.data)
	if err != nil {
		return usageErr(err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// Lock before the sandbox gateway reads and (on close) writes its
	// state in the data folder: a second sandbox must not touch it.
	lock, err := datalock.Acquire(data)
	if err != nil {
		return err
	}
	defer lock.Release()
	pay := f.payment()
	o := daemon.SandboxOptions{DataDir: data, ECRListen: f.ecrListen, SandboxListen: f.sandboxListen,
		Lanes: f.lanes, Payment: &pay, GatewayTimeout: f.gatewayTimeout}
	o.Gateway.ConfirmDelay, o.Gateway.RejectDelay = f.confirmDelay, f.rejectDelay
	o.Gateway.SlowPayDelay, o.Gateway.AutoClose = f.slowPay, f.autoClose
	sb, err := daemon.StartSandbox(o)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = sb.Close(cctx)
	}()
	rs := startSandboxRecon(cio, sb, data, f.sandboxListen)
	if rs != nil {
		defer rs.Close()
	}
	cfg := sb.Config
	cfg.Daemon.LogFile = filepath.Join(data, "tillbridge.log")
	sandboxConsole(cfg, f.consoleListen)
	return runDaemon(ctx, cio, cfg, f.logLevel, lock, func(addrs []net.Addr) {
		printSandboxHelp(cio.stdout, sb, addrs, data, f.lanes)
		printSandboxReconHelp(cio.stdout, rs, data, sb.URL)
		printSandboxConsoleHelp(cio.stdout, cfg, data)
	})
}

// payment builds the sandbox run's payment settings from the flags.
func (f runFlags) payment() daemon.PaymentConfig {
	p := daemon.NewConfig().Payment
	p.FirstQuery, p.QueryInterval, p.PayDeadline = f.firstQuery, f.queryInterval, f.payDeadline
	p.BackoffMin, p.BackoffMax, p.CancelWait, p.ScanTimeout = f.backoffMin, f.backoffMax, f.cancelWait, f.scanWait
	return p
}

// runProductionMode runs the daemon from the config file, as a service when the
// service manager started it.
func runProductionMode(ctx context.Context, cio cmdIO, f runFlags) error {
	cfg, err := daemon.LoadConfig(f.config)
	if err != nil {
		return err
	}
	if f.data != "" {
		cfg.Daemon.DataDir = f.data
	}
	if cfg.Daemon.DataDir == "" {
		cfg.Daemon.DataDir = installer.DefaultPaths().Data
	}
	if err := checkSecrets(f.config, cfg); err != nil {
		return err
	}
	return installer.RunService(ctx, installer.ServiceName, func(ctx context.Context) error {
		return runDaemon(ctx, cio, cfg, f.logLevel, nil, nil)
	})
}

// checkSecrets refuses key files others can read, and the configuration
// file itself when it holds an inline key (md5_key or a shared_key).
func checkSecrets(file string, cfg *daemon.Config) error {
	files := []string{cfg.Gateway.MD5KeyFile, cfg.Gateway.PrivateKeyFile}
	inline := cfg.Gateway.MD5Key != ""
	for _, l := range cfg.Listen {
		files = append(files, l.SharedKeyFile)
		inline = inline || l.SharedKey != ""
	}
	if inline {
		files = append(files, file)
	}
	for _, p := range files {
		if p == "" {
			continue
		}
		if err := installer.CheckSecretFile(p); err != nil {
			return err
		}
	}
	return nil
}

// runDaemon sets up logging and runs the daemon until ctx ends. Started by
// the service manager, it logs to the default log file when the config
// names none, and copies lifecycle events and errors to the system log.
// lock is the data directory's lock when the caller holds it already (nil:
// the daemon takes it).
func runDaemon(ctx context.Context, cio cmdIO, cfg *daemon.Config, level string, lock *datalock.Lock,
	onReady func([]net.Addr)) error {
	if level != "" {
		cfg.Daemon.LogLevel = level
	}
	logs, err := openLogs(cio.stderr, cfg, logTarget{service: !installer.Interactive(), openSystem: logging.OpenSystemLog})
	if err != nil {
		return err
	}
	defer logs.Close()
	log := logs.Logger()
	logging.Lifecycle(log.Info()).Str("version", versionString()).Str("log_file", cfg.Daemon.LogFile).
		Msg("tillbridge starting")
	d, err := daemon.New(cfg, daemon.Options{Logger: log, Version: versionString(), OnReady: onReady, DataLock: lock})
	if err != nil {
		logging.Lifecycle(log.Error()).Err(err).Msg("tillbridge cannot start")
		return err
	}
	if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		msg := "tillbridge stopped with an error"
		if errors.Is(err, datalock.ErrHeld) {
			msg = "tillbridge cannot start"
		}
		logging.Lifecycle(log.Error()).Err(err).Msg(msg)
		return err
	}
	return nil
}

// logTarget says how the daemon was started, for openLogs.
type logTarget struct {
	// service: started by the service manager (no console anyone reads).
	service bool
	// openSystem opens the system log (logging.OpenSystemLog); nil: none.
	openSystem func(name string) (logging.SystemLog, error)
}

// openLogs opens the configured logs with every configured secret (MD5
// key, PEM private key, ECR shared keys) registered with the log filter.
// As a service it defaults the log file and adds the system log; a system
// log that cannot be opened is reported on the console and skipped.
func openLogs(console io.Writer, cfg *daemon.Config, t logTarget) (*logging.Logs, error) {
	if t.service && cfg.Daemon.LogFile == "" {
		cfg.Daemon.LogFile = installer.DefaultPaths().LogFile() // the daemon's bundle reads it from cfg
	}
	dc := cfg.Daemon
	if dc.LogFile != "" {
		if err := os.MkdirAll(filepath.Dir(dc.LogFile), 0o750); err != nil {
			return nil, fmt.Errorf("log folder: %w", err)
		}
	}
	var sys logging.SystemLog
	if t.service && t.openSystem != nil {
		var err error
		if sys, err = t.openSystem(installer.ServiceName); err != nil {
			fmt.Fprintf(console, "tillbridge: system log not available: %v\n", err)
			sys = nil
		}
	}
	logs, err := logging.New(logging.Config{Level: dc.LogLevel, File: dc.LogFile, MaxSizeMB: dc.LogMaxSizeMB,
		MaxFiles: dc.LogMaxFiles, MaxAgeDays: dc.LogMaxAgeDays, Console: console,
		ConsoleFormat: dc.LogFormat, NoColor: !colorConsole(console, os.Getenv), System: sys,
		Secrets: logSecrets(cfg)})
	if err != nil && sys != nil {
		_ = sys.Close()
	}
	return logs, err
}

// logSecrets lists the configured secrets the log filter can scrub: those
// of at least logging.MinSecretLen characters (config validation refuses a
// shorter shared key; a shorter one would make logging.New fail).
func logSecrets(cfg *daemon.Config) []string {
	var out []string
	for _, s := range daemon.ConfigSecrets(cfg) {
		if len(s) >= logging.MinSecretLen {
			out = append(out, s)
		}
	}
	return out
}

// printSandboxHelp tells the person who ran `make run` what to do next.
func printSandboxHelp(w io.Writer, sb *daemon.Sandbox, addrs []net.Addr, data string, lanes int) {
	ecr := daemon.DefaultECRAddress
	if len(addrs) > 0 {
		ecr = addrs[0].String()
	}
	addrFlag := ""
	if ecr != daemon.DefaultECRAddress {
		addrFlag = " --addr " + ecr
	}
	exe := os.Args[0] // bin/tillbridge after `make run`
	if b := filepath.Base(exe); b != "tillbridge" && b != "tillbridge.exe" {
		exe = "tillbridge"
	}
	fmt.Fprintf(w, `
tillbridge is running on its built-in Alipay sandbox (data in %s).
  ECR protocol:    tcp %s (JSON lines or STX/ETX frames), lanes 1..%d
  Sandbox gateway: %s/gateway.do (partner %s)

Send a test sale (the last two digits of the code pick the sandbox's behaviour:
00-09 paid, 10 buyer confirms on the phone, 20 declined, 31 lost answer ... see docs/sandbox.md):
  %s ecr sale%s --lane 1 --amount 1250 --currency HKD --barcode 281234567890123400

See the sandbox's ledger:
  curl -s %s/sandbox/trades

Receipts are appended to %s. Stop with Ctrl-C.

`, data, ecr, lanes, sb.URL, daemon.SandboxPartner, exe, addrFlag, sb.URL,
		filepath.Join(data, "receipts", "lane-N.escpos"))
}
