package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/devices/receipt"
	"github.com/tillbridge/tillbridge/installer"
)

// This file holds `tillbridge status` and what every diagnostics command
// shares: finding the daemon's control API from the same --config / --data
// flags as `run`, --json output and the mapping of errors to exit codes.

// serviceStatusTimeout bounds the question to the service manager.
const serviceStatusTimeout = 5 * time.Second

// ctlFlags are the flags every diagnostics command shares.
type ctlFlags struct {
	config, data, socket string
	json                 bool
	fs                   *flag.FlagSet
}

// register adds --config, --data, --socket and --json to fs.
func (f *ctlFlags) register(fs *flag.FlagSet) {
	f.registerTarget(fs)
	fs.BoolVar(&f.json, "json", false, "print JSON for machines")
}

// registerTarget adds --config, --data and --socket (where the daemon is)
// to fs.
func (f *ctlFlags) registerTarget(fs *flag.FlagSet) {
	paths := installer.DefaultPaths()
	f.fs = fs
	fs.StringVar(&f.config, "config", paths.Config, "configuration `file` the daemon runs with")
	fs.StringVar(&f.data, "data", "", "data `dir` the daemon runs with (default: the config's data_dir, else "+paths.Data+")")
	fs.StringVar(&f.socket, "socket", "", "control socket or pipe `address` (default: found from --config / --data)")
}

const ctlFlagsHelp = `The daemon is found as 'tillbridge run' places it: --socket, else [control]
socket of --config, else DATA/control.sock (Windows: \\.\pipe\tillbridge-control)
where DATA is --data, the config's data_dir, or the installed data folder.`

// isSet reports whether the named flag was given.
func (f *ctlFlags) isSet(name string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// target resolves the control address, and the configuration when it
// could be read (nil otherwise: a technician may not read the keys' file).
func (f *ctlFlags) target() (string, *daemon.Config) {
	var cfg *daemon.Config
	if f.isSet("config") || !f.isSet("data") {
		cfg, _ = daemon.LoadConfig(f.config)
	}
	if f.socket != "" {
		return f.socket, cfg
	}
	if cfg != nil && cfg.Control.Socket != "" && !f.isSet("data") {
		return cfg.Control.Socket, cfg
	}
	data := f.data
	if data == "" && f.isSet("config") && cfg != nil {
		data = cfg.Daemon.DataDir
	}
	if data == "" {
		data = installer.DefaultPaths().Data
	}
	if abs, err := filepath.Abs(data); err == nil {
		data = abs
	}
	return control.DefaultAddress(data), cfg
}

// client returns a control client for the resolved address.
func (f *ctlFlags) client() (*control.Client, *daemon.Config) {
	addr, cfg := f.target()
	return control.NewClient(addr), cfg
}

// parseCtl parses a diagnostics command's flags; extra args are refused
// unless allowed.
func parseCtl(fs *flag.FlagSet, args []string, allowArgs bool) error {
	if !allowArgs {
		return parseNoArgs(fs, args)
	}
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	return nil
}

// parseInterspersed parses flags placed before, between and after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseCtl(fs, args, true); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// newCtlFlagSet builds a diagnostics command's flag set with its usage.
func newCtlFlagSet(name, usage string, cio cmdIO, f *ctlFlags) *flag.FlagSet {
	fs := newFlagSet(name, usage+"\n"+ctlFlagsHelp+"\n\nFlags:\n", cio)
	f.register(fs)
	return fs
}

// serviceHint says where to look when the daemon does not answer.
func serviceHint() string {
	if runtime.GOOS == "windows" {
		return "check `sc query tillbridge` and the Event Log (source tillbridge)"
	}
	return "check `systemctl status tillbridge` and `journalctl -u tillbridge -e`"
}

// ctlErr maps a control API error to the documented exit codes: 3 when no
// daemon answers, 4 when it answers that it is not ready, 1 otherwise.
func ctlErr(err error) error {
	var nr *control.NotRunningError
	var ce *control.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nr):
		return &exitError{code: exitNoDaemon, err: fmt.Errorf("%v; start it with `tillbridge start` "+
			"(installed service) or `tillbridge run --config FILE`; %s", nr, serviceHint())}
	case errors.Is(err, fs.ErrPermission):
		return &exitError{code: exitNoDaemon, err: fmt.Errorf("%v: run as root (sudo) or as the tillbridge "+
			"service account", err)}
	case errors.As(err, &ce) && ce.Code == control.CodeStarting:
		return &exitError{code: exitUnhealthy, err: err}
	case errors.As(err, &ce) && ce.Code == control.CodeInvalid:
		return usageErr(err)
	}
	return &exitError{code: exitFailure, err: err}
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ctlContext bounds a diagnostics call.
func ctlContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// callDaemon makes one control-API call to the daemon f points at, with a
// deadline of d; its error is already turned into the CLI's exit code.
func callDaemon[T any](ctx context.Context, f *ctlFlags, d time.Duration,
	call func(context.Context, *control.Client) (T, error)) (T, error) {
	cl, _ := f.client()
	defer cl.Close()
	cctx, cancel := ctlContext(ctx, d)
	defer cancel()
	v, err := call(cctx, cl)
	return v, ctlErr(err)
}

func statusCommand() command {
	return command{name: "status", summary: "show the daemon's state: lanes, gateway, queue, devices (exit 4 when unhealthy)",
		run: runStatus}
}

const statusUsage = `usage: tillbridge status [--config FILE | --data DIR | --socket ADDR] [--json]

Shows the daemon's version and uptime, the service manager's view, each lane
with its sale in flight, printer and scanner, the gateway's reachability (last
answer and last failure), and the journal's operations by state.

Exit codes: 0 healthy; 3 the daemon is not running or not reachable; 4 the
daemon answered but something is not healthy: operations in MANUAL, the
gateway unreachable, a printer not ready, a scanner stopped, or the daemon
still starting. Warnings (paper near end, no gateway call yet) do not change
the exit code.

Examples:
  tillbridge status
  tillbridge status --data ./.run --json
`

func runStatus(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	fs := newCtlFlagSet("status", statusUsage, cio, &f)
	if err := parseCtl(fs, args, false); err != nil {
		return err
	}
	cl, _ := f.client()
	defer cl.Close()
	cctx, cancel := ctlContext(ctx, 30*time.Second)
	defer cancel()
	snap, err := cl.Status(cctx)
	svc := serviceView(ctx)
	if err != nil {
		return statusDown(cio, f, cl.Addr(), svc, err)
	}
	snap.Service = svc
	if f.json {
		if err := printJSON(cio.stdout, snap); err != nil {
			return err
		}
	} else {
		printStatus(cio.stdout, snap)
	}
	if !snap.Healthy {
		return &exitError{code: exitUnhealthy, err: errors.New("")}
	}
	return nil
}

// serviceView asks the service manager about the installed service.
func serviceView(ctx context.Context) *control.ServiceView {
	sctx, cancel := context.WithTimeout(ctx, serviceStatusTimeout)
	defer cancel()
	st, err := installer.ServiceStatus(sctx, "")
	v := &control.ServiceView{State: string(st.State), Detail: st.Detail, Restarts: st.Restarts}
	if err != nil {
		v.Error = err.Error()
	}
	return v
}

// statusDown reports a daemon that did not answer, with the service
// manager's view, and exits 3 (or as ctlErr says).
func statusDown(cio cmdIO, f ctlFlags, addr string, svc *control.ServiceView, err error) error {
	if f.json {
		_ = printJSON(cio.stdout, map[string]any{"running": false, "control": addr, "service": svc,
			"error": err.Error()})
	} else {
		fmt.Fprintf(cio.stdout, "service:  %s\n", describeService(svc))
	}
	return ctlErr(err)
}

func describeService(s *control.ServiceView) string {
	if s == nil {
		return "unknown"
	}
	out := s.State
	if s.Detail != "" {
		out += " (" + s.Detail + ")"
	}
	if s.Restarts > 0 {
		out += fmt.Sprintf(", %d automatic restarts", s.Restarts)
	}
	if s.Error != "" {
		out += ": " + strings.Join(strings.Fields(s.Error), " ")
	}
	return out
}

// printStatus writes the human form of a snapshot.
func printStatus(w io.Writer, s control.StatusSnapshot) {
	fmt.Fprintf(w, "tillbridge %s (%s): %s, up %s\n", s.Version, s.GoOS, s.State,
		time.Duration(s.UptimeSeconds)*time.Second)
	fmt.Fprintf(w, "  service:  %s\n", describeService(s.Service))
	fmt.Fprintf(w, "  control:  %s\n", s.Control)
	fmt.Fprintf(w, "  ECR:      %s\n", strings.Join(s.ECR, ", "))
	fmt.Fprintf(w, "  data:     %s\n", s.DataDir)
	printGateway(w, s.Gateway)
	printQueue(w, s.Queue)
	printRecon(w, s.Reconcile)
	printLanes(w, s.Lanes)
	printVerdict(w, s)
}

func printGateway(w io.Writer, g control.GatewayHealth) {
	fmt.Fprintf(w, "  gateway:  %s (partner %s, %s): reachable %s\n", g.URL, g.Partner, g.SignType, g.Reachable)
	if !g.LastOK.IsZero() {
		fmt.Fprintf(w, "            last answer  %s (%s)\n", clock(g.LastOK), g.LastOKCall)
	}
	if !g.LastFail.IsZero() {
		fmt.Fprintf(w, "            last failure %s: %s\n", clock(g.LastFail),
			firstOf(g.LastFailMsg, g.LastCode))
	}
}

func printQueue(w io.Writer, q control.QueueCounts) {
	var parts []string
	for _, st := range sortedStates(q.ByState) {
		parts = append(parts, fmt.Sprintf("%d %s", q.ByState[st], st))
	}
	fmt.Fprintf(w, "  queue:    %d operations, %d open, %d MANUAL", q.Total, q.Open, q.Manual)
	if len(parts) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
}

func printLanes(w io.Writer, lanes []control.LaneStatus) {
	fmt.Fprintln(w, "  lanes:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    LANE\tTERMINAL\tSALE\tPRINTER\tSCANNER")
	for _, l := range lanes {
		sale := "idle"
		if s := l.Sale; s != nil {
			sale = fmt.Sprintf("%s %s %s", s.Ref, s.State, receipt.FormatMoney(s.Amount, s.Currency))
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", l.ID, l.TerminalID, sale, describePrinter(l.Printer),
			describeScanner(l))
	}
	tw.Flush()
}

func describePrinter(p *control.PrinterHealth) string {
	switch {
	case p == nil:
		return "-"
	case p.OneWay:
		return p.Name + ": one-way (no status)"
	case p.Detail != "" && !p.Ready:
		return p.Name + ": " + p.State + " (" + p.Detail + ")"
	}
	return p.Name + ": " + p.State
}

func describeScanner(l control.LaneStatus) string {
	if l.Scanner == nil {
		return "- (codes from the ECR)"
	}
	return l.Scanner.Name + ": " + l.Scanner.State
}

func printVerdict(w io.Writer, s control.StatusSnapshot) {
	if s.Healthy {
		fmt.Fprintln(w, "healthy")
	} else {
		fmt.Fprintln(w, "UNHEALTHY:")
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
	for _, p := range s.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", p)
	}
}

func sortedStates(m map[string]int) []string {
	var out []string
	for _, st := range []string{"waiting_scan", "paying", "querying", "cancelling", "checking", "refunding",
		"manual", "paid", "declined", "cancelled", "voided", "refunded", "refund_declined"} {
		if m[st] > 0 {
			out = append(out, st)
		}
	}
	return out
}

// clock formats a time for humans, in local time.
func clock(t time.Time) string { return t.Local().Format(time.DateTime) }

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
