package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/installer"
	"github.com/tillbridge/tillbridge/recon"
	"github.com/tillbridge/tillbridge/recon/parse"
)

func reconcileCommand() command {
	return command{name: "reconcile", summary: "check a day's journal against Alipay's transaction and settlement files", run: runReconcile}
}

const reconcileUsage = `usage: tillbridge reconcile [--date YYYY-MM-DD] [--file F] [--settlement F] [--journal J]... [--json | --csv | --html OUT]
       tillbridge reconcile exceptions [--all] [--date YYYY-MM-DD] [--json]
       tillbridge reconcile resolve ID --reason "..." [--operator NAME]

reconcile matches every record of Alipay's transaction file of --date (a
Beijing/GMT+8 day; default yesterday) — and of a settlement file, if given —
against the journals, by partner_trans_id / partner_refund_id, and prints the
day's totals per currency and every item that does not agree (see
docs/reconciliation.md for each class and what to do). Journals are read
read-only, so the daemon may keep running. --journal may be repeated to
reconcile the journals of several tills (e.g. exported copies) against one
partner's file; default DATA/journal.db. Without --file the files are fetched
from the [reconcile] source of --config (a folder or SFTP) and archived in
DATA/recon/files with their SHA-256.

Every exception is stored in DATA/recon.db until a person resolves it;
items missing from the day's file are re-checked against the next days'
files and resolved automatically when they appear.

exceptions lists the open exceptions (--all: resolved ones too).
resolve closes one with a reason (mandatory), recorded with --operator.

Exit codes: 0 reconciled, no exception; 1 failed; 2 bad flags;
4 reconciled, with exceptions.

Examples:
  tillbridge reconcile --date 2026-03-04 --file 2088…_transaction_20260304.txt --settlement 2088…_settlement_20260305.txt
  tillbridge reconcile --date 2026-03-04 --journal till1.db --journal till2.db --file t.txt --html day.html
  tillbridge reconcile exceptions
  tillbridge reconcile resolve 12 --reason "refunded in the merchant portal, ticket 4711"
`

// journalList is a repeatable --journal flag.
type journalList []string

func (j *journalList) String() string     { return strings.Join(*j, ",") }
func (j *journalList) Set(v string) error { *j = append(*j, v); return nil }

// reconFlags are the flags every reconcile subcommand shares.
type reconFlags struct {
	config, data string
}

func (f *reconFlags) register(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&f.config, "config", installer.DefaultPaths().Config, "configuration `file` (data_dir, [reconcile])")
	fs.StringVar(&f.data, "data", "", "data `dir` (default: the config's data_dir, else the installed data folder)")
}

// resolve returns the data directory and the configuration (nil when it
// cannot be read).
func (f *reconFlags) resolve() (string, *daemon.Config) {
	cfg, _ := daemon.LoadConfig(f.config)
	data := f.data
	if data == "" && cfg != nil {
		data = cfg.Daemon.DataDir
	}
	if data == "" {
		data = installer.DefaultPaths().Data
	}
	return data, cfg
}

func (f *reconFlags) store(ctx context.Context, data string) (*recon.Store, error) {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	st, err := recon.OpenStore(ctx, filepath.Join(data, "recon.db"))
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	return st, nil
}

func runReconcile(ctx context.Context, cio cmdIO, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "exceptions":
			return runReconcileExceptions(ctx, cio, args[1:])
		case "resolve":
			return runReconcileResolve(ctx, cio, args[1:])
		}
	}
	var f reconFlags
	var journals journalList
	var date, file, settlement, html, charset string
	var asJSON, asCSV, noSave bool
	fs := newFlagSet("reconcile", reconcileUsage+"\nFlags:\n", cio)
	f.register(fs)
	fs.StringVar(&date, "date", "", "the Beijing `day` to reconcile, YYYY-MM-DD (default yesterday)")
	fs.StringVar(&file, "file", "", "Alipay's transaction `file` of the day (plain, gzip or zip)")
	fs.StringVar(&settlement, "settlement", "", "a settlement `file` to check too")
	fs.Var(&journals, "journal", "a journal `file` (repeatable; default DATA/journal.db)")
	fs.StringVar(&charset, "charset", "", "the files' charset: UTF-8 or GBK (default: UTF-8 if valid, else GBK)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&asCSV, "csv", false, "print the report as CSV (one line per item)")
	fs.StringVar(&html, "html", "", "also write the report as HTML to `file`")
	fs.BoolVar(&noSave, "no-save", false, "do not record the result in DATA/recon.db")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if asJSON && asCSV {
		return usageErr(errors.New("--json and --csv exclude each other"))
	}
	if date == "" {
		date = time.Now().In(parse.Beijing()).AddDate(0, 0, -1).Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return usageErr(fmt.Errorf("--date %q is not YYYY-MM-DD", date))
	}
	data, cfg := f.resolve()
	if len(journals) == 0 {
		journals = journalList{filepath.Join(data, daemon.JournalFile)}
	}
	var st *recon.Store
	if !noSave {
		var err error
		if st, err = f.store(ctx, data); err != nil {
			return err
		}
		defer st.Close()
	}
	if file == "" {
		var err error
		if file, settlement, err = fetchForDay(ctx, cfg, data, date, st); err != nil {
			return err
		}
	}
	o := recon.Options{Day: date, TransactionFile: file, SettlementFile: settlement,
		Journals: journals, Charset: parse.Charset(strings.ToUpper(charset)), Store: st}
	if cfg != nil {
		o.Partner, o.OwnPrefixes = cfg.Gateway.Partner, cfg.Reconcile.OwnPrefixes
	}
	res, err := recon.Reconcile(ctx, o)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	rep := res.Report
	switch {
	case asJSON:
		err = recon.WriteJSON(cio.stdout, rep)
	case asCSV:
		err = recon.WriteCSV(cio.stdout, rep)
	default:
		err = recon.WriteText(cio.stdout, rep)
	}
	if err != nil {
		return err
	}
	if html != "" {
		if err := writeFileVia(html, 0o644, func(w io.Writer) error { return recon.WriteHTML(w, rep) }); err != nil {
			return err
		}
		fmt.Fprintf(cio.stderr, "wrote %s\n", html)
	}
	if rep.Exceptions > 0 {
		return &exitError{code: exitUnhealthy, err: fmt.Errorf("%s: %s (list them with 'tillbridge reconcile exceptions')", date, rep.Verdict())}
	}
	return nil
}

func runReconcileExceptions(ctx context.Context, cio cmdIO, args []string) error {
	var f reconFlags
	var flt recon.Filter
	var asJSON bool
	fs := newFlagSet("reconcile exceptions", reconcileUsage+"\nFlags:\n", cio)
	f.register(fs)
	fs.BoolVar(&flt.All, "all", false, "resolved exceptions too")
	fs.StringVar(&flt.Day, "date", "", "only this `day`")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	data, _ := f.resolve()
	st, err := f.store(ctx, data)
	if err != nil {
		return err
	}
	defer st.Close()
	exs, err := st.Exceptions(ctx, flt)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if asJSON {
		if exs == nil {
			exs = []recon.Exception{}
		}
		return printJSON(cio.stdout, exs)
	}
	if len(exs) == 0 {
		fmt.Fprintln(cio.stdout, "no exceptions")
		return nil
	}
	tw := tabwriter.NewWriter(cio.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDAY\tSTATUS\tCLASS\tTYPE\tKEY\tAMOUNT\tDETAIL / REASON")
	for _, e := range exs {
		it := e.Item
		amt := ""
		if it.Currency != "" {
			amt = parse.FormatMinor(it.Amount, it.Currency) + " " + it.Currency
		}
		note := it.Detail
		if e.Status == "resolved" {
			note = "resolved by " + e.ResolvedBy + ": " + e.Reason
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Day, e.Status, it.Class, it.Type, it.Key, amt, note)
	}
	return tw.Flush()
}

func runReconcileResolve(ctx context.Context, cio cmdIO, args []string) error {
	var f reconFlags
	var reason, operator string
	fs := newFlagSet("reconcile resolve", reconcileUsage+"\nFlags:\n", cio)
	f.register(fs)
	fs.StringVar(&reason, "reason", "", "why the exception is resolved (required)")
	fs.StringVar(&operator, "operator", defaultOperator(), "who resolves (recorded)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr(errors.New("one exception ID is required (see tillbridge reconcile exceptions)"))
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return usageErr(fmt.Errorf("exception ID %q is not a number", pos[0]))
	}
	if strings.TrimSpace(reason) == "" {
		return usageErr(errors.New("--reason is required"))
	}
	if operator == "" {
		return usageErr(errors.New("--operator is required (no user name could be found)"))
	}
	data, _ := f.resolve()
	st, err := f.store(ctx, data)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Resolve(ctx, id, reason, operator, time.Now()); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	fmt.Fprintf(cio.stdout, "exception %d resolved\n", id)
	return nil
}
