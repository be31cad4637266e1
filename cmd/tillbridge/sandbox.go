package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// defaultSandboxListen is where `tillbridge sandbox` listens by default.
const defaultSandboxListen = "127.0.0.1:7430"

// sandboxUsage is printed by `tillbridge sandbox -h`.
const sandboxUsage = `usage: tillbridge sandbox --partner PID (--md5-key KEY | --sign-key FILE --merchant-pubkey FILE) [flags]

Runs the Alipay gateway simulator standalone: the four services on
/gateway.do, and its fault, ledger and file API under /sandbox/.
Buyer codes of 18 digits starting with 28 pick a scenario by their last
two digits (docs/sandbox.md). It listens on loopback only unless
--allow-remote is given.

Examples:
  tillbridge sandbox --partner 2088000000007430 --md5-key 0123456789abcdef0123456789abcdef
  tillbridge sandbox --partner 2088000000007430 --sign-key alipay_private.pem \
      --merchant-pubkey merchant_public.pem --state sandbox.db

Flags:
`

// sandboxFlags are the flags of `tillbridge sandbox`.
type sandboxFlags struct {
	listen, partner, md5Key, signKey, merchantPub, state, importState string
	autoClose, confirm, reject, slow                                  time.Duration
	allowRemote                                                       bool
}

func parseSandboxFlags(cio cmdIO, args []string) (sandboxFlags, error) {
	var f sandboxFlags
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() { fmt.Fprint(cio.stderr, sandboxUsage); fs.PrintDefaults() }
	fs.StringVar(&f.listen, "listen", defaultSandboxListen, "address to listen on (loopback unless --allow-remote)")
	fs.StringVar(&f.partner, "partner", "", "partner ID the gateway accepts (16 digits, 2088…)")
	fs.StringVar(&f.md5Key, "md5-key", "", "MD5 key (enables sign_type MD5)")
	fs.StringVar(&f.signKey, "sign-key", "", "Alipay private key PEM that signs RSA/RSA2 answers")
	fs.StringVar(&f.merchantPub, "merchant-pubkey", "", "merchant public key PEM that verifies RSA/RSA2 requests")
	fs.StringVar(&f.state, "state", "", "keep trades in this SQLite `file` across restarts")
	fs.StringVar(&f.importState, "import-state", "", "import this JSON state `file` of an earlier version into a new --state file")
	fs.DurationVar(&f.autoClose, "auto-close", sandbox.DefaultAutoClose, "close trades still waiting for the buyer after this")
	fs.DurationVar(&f.confirm, "confirm-delay", sandbox.DefaultConfirmDelay, "buyer confirmation time of scenarios 10 and 33")
	fs.DurationVar(&f.reject, "reject-delay", sandbox.DefaultRejectDelay, "buyer rejection time of scenario 12")
	fs.DurationVar(&f.slow, "slow-delay", sandbox.DefaultSlowPayDelay, "pay answer delay of scenario 35")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a non-loopback --listen address")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return f, f.check()
}

// check validates flag combinations that flag parsing cannot.
func (f sandboxFlags) check() error {
	if f.partner == "" {
		return errors.New("--partner is required")
	}
	if f.md5Key == "" && f.signKey == "" {
		return errors.New("give --md5-key, or --sign-key with --merchant-pubkey")
	}
	if (f.signKey == "") != (f.merchantPub == "") {
		return errors.New("--sign-key and --merchant-pubkey go together")
	}
	if f.importState != "" && f.state == "" {
		return errors.New("--import-state needs --state (the SQLite file to import into)")
	}
	if !f.allowRemote && !isLoopback(f.listen) {
		return fmt.Errorf("--listen %s is not a loopback address (add --allow-remote to expose the sandbox)", f.listen)
	}
	return nil
}

// isLoopback reports whether addr (host:port) names a loopback host.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sandboxCommand() command {
	return command{
		name:    "sandbox",
		summary: "run the Alipay gateway simulator (scenarios, faults, ledger, files)",
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			f, err := parseSandboxFlags(cio, args)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			if err != nil {
				return usageErr(err)
			}
			return runSandbox(ctx, cio, f)
		},
	}
}

// sandboxConfig builds the simulator configuration, reading the key files.
func (f sandboxFlags) config(logw io.Writer) (sandbox.Config, error) {
	cfg := sandbox.Config{Partner: f.partner, MD5Key: f.md5Key, StateFile: f.state, ImportStateFile: f.importState,
		AutoClose: f.autoClose, ConfirmDelay: f.confirm, RejectDelay: f.reject, SlowPayDelay: f.slow,
		Logger: slog.New(slog.NewTextHandler(logw, nil))}
	if f.signKey == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(f.signKey)
	if err != nil {
		return cfg, fmt.Errorf("read --sign-key: %w", err)
	}
	if cfg.AlipayPrivateKey, err = alipay.ParsePrivateKeyPEM(b); err != nil {
		return cfg, fmt.Errorf("--sign-key %s: %w", f.signKey, err)
	}
	if b, err = os.ReadFile(f.merchantPub); err != nil {
		return cfg, fmt.Errorf("read --merchant-pubkey: %w", err)
	}
	if cfg.MerchantPublicKey, err = alipay.ParsePublicKeyPEM(b); err != nil {
		return cfg, fmt.Errorf("--merchant-pubkey %s: %w", f.merchantPub, err)
	}
	return cfg, nil
}

// runSandbox serves the simulator until ctx is done, then shuts down and
// flushes the state file.
func runSandbox(ctx context.Context, cio cmdIO, f sandboxFlags) error {
	cfg, err := f.config(cio.stderr)
	if err != nil {
		return err
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		var ce *sandbox.ConfigError
		if errors.As(err, &ce) {
			return usageErr(err)
		}
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	printSandboxBanner(cio.stdout, "http://"+ln.Addr().String(), f, signTypes(cfg))

	select {
	case <-ctx.Done():
	case err = <-served:
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutCtx)
	if cerr := srv.Close(); cerr != nil {
		return fmt.Errorf("flush state: %w", cerr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// signTypes lists the sign types cfg enables.
func signTypes(cfg sandbox.Config) []string {
	var out []string
	if cfg.MD5Key != "" {
		out = append(out, "MD5")
	}
	if cfg.AlipayPrivateKey != nil {
		out = append(out, "RSA", "RSA2")
	}
	sort.Strings(out)
	return out
}

// printSandboxBanner tells the user where the simulator is and how to
// reach it.
func printSandboxBanner(w io.Writer, base string, f sandboxFlags, signs []string) {
	state := "memory only (lost on exit)"
	if f.state != "" {
		state = f.state
	}
	fmt.Fprintf(w, "tillbridge sandbox: Alipay gateway simulator for partner %s (sign types %s)\n", f.partner, strings.Join(signs, ", "))
	fmt.Fprintf(w, "  gateway: %s/gateway.do\n", base)
	fmt.Fprintf(w, "  ledger:  curl %s/sandbox/trades\n", base)
	fmt.Fprintf(w, "  faults:  curl -X POST -d '{\"kind\":\"down\",\"for\":\"30s\"}' %s/sandbox/faults\n", base)
	fmt.Fprintf(w, "  files:   curl '%s/sandbox/files/transaction?date=%s'\n", base, time.Now().In(time.FixedZone("GMT+8", 8*3600)).Format(time.DateOnly))
	fmt.Fprintf(w, "  state:   %s; auto-close %s\n", state, f.autoClose)
	fmt.Fprintf(w, "Scenario buyer codes: 2800000000000000NN (docs/sandbox.md). Stop with Ctrl-C.\n")
}
