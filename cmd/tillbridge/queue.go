package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/devices/receipt"
	"github.com/tillbridge/tillbridge/queue"
)

func queueCommand() command {
	return command{name: "queue", summary: "inspect the payment journal: list, show, retry, resolve", run: runQueue}
}

const queueUsage = `usage: tillbridge queue list    [--state S[,S...]] [--lane L] [--kind sale|refund] [--since T] [--until T] [--limit N] [--json]
       tillbridge queue show    ID [--json]
       tillbridge queue retry   ID
       tillbridge queue resolve ID --state STATE --reason "..." [--operator NAME]

list shows operations newest first. --state takes journal states (paying,
querying, cancelling, checking, refunding, paid, declined, cancelled, voided,
refunded, refund_declined, manual) and "open" (every state the engine still
works on). --since/--until take a date (2026-03-04), an RFC 3339 time, or a
duration back from now (24h).

show prints one operation with every journal event (attempts, gateway codes,
transitions, who resolved it) and a sale's refunds.

retry makes a waiting operation (querying, cancelling, checking, refunding)
try again now, e.g. once the network is back.

resolve ends an operation by hand after checking it in the Alipay merchant
portal (or the sandbox ledger): a sale to paid, declined, cancelled or voided,
a refund to refunded or declined. --reason is mandatory; it is journaled with
--operator (default: the user running the command). Only operations in MANUAL
or not yet final can be resolved.

Exit codes: 0 done; 1 refused (not found, wrong state); 2 bad flags; 3 the
daemon is not running; 4 the daemon is still starting.

Examples:
  tillbridge queue list --state manual
  tillbridge queue list --lane 2 --since 24h --json
  tillbridge queue show 01J9Z3W4K5M6N7P8Q9R0S1T2U3
  tillbridge queue resolve 01J9Z3W4K5M6N7P8Q9R0S1T2U3 --state paid --reason "TRADE_SUCCESS in merchant portal"
`

func runQueue(ctx context.Context, cio cmdIO, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(cio.stderr, queueUsage)
		return usageErr(errors.New("queue needs list, show, retry or resolve"))
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list":
		return runQueueList(ctx, cio, rest)
	case "show":
		return runQueueShow(ctx, cio, rest)
	case "retry":
		return runQueueRetry(ctx, cio, rest)
	case "resolve":
		return runQueueResolve(ctx, cio, rest)
	}
	return usageErr(fmt.Errorf("unknown queue command %q: want list, show, retry or resolve", sub))
}

// parseWithID parses flags placed before and after one positional ID.
func parseWithID(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parseInterspersed(fs, args)
	switch {
	case err != nil:
		return "", err
	case len(pos) == 0:
		return "", usageErr(errors.New("an operation ID is required (see tillbridge queue list)"))
	case len(pos) > 1:
		return "", usageErr(fmt.Errorf("unexpected argument %q", pos[1]))
	}
	return pos[0], nil
}

func runQueueList(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	var q control.QueueQuery
	var states, kind, since, until string
	fs := newCtlFlagSet("queue list", queueUsage, cio, &f)
	fs.StringVar(&states, "state", "", "only these `states` (comma-separated; open = not final)")
	fs.StringVar(&q.Lane, "lane", "", "only this `lane`")
	fs.StringVar(&kind, "kind", "", "only sale or refund")
	fs.StringVar(&since, "since", "", "created at or after `T` (date, RFC 3339, or duration like 24h)")
	fs.StringVar(&until, "until", "", "created before `T`")
	fs.IntVar(&q.Limit, "limit", 100, "at most `N` operations")
	if err := parseCtl(fs, args, false); err != nil {
		return err
	}
	var err error
	if q.Since, err = parseWhen(since, time.Now()); err != nil {
		return usageErr(fmt.Errorf("--since: %w", err))
	}
	if q.Until, err = parseWhen(until, time.Now()); err != nil {
		return usageErr(fmt.Errorf("--until: %w", err))
	}
	q.Kind = queue.Kind(kind)
	if states != "" {
		q.States = strings.Split(states, ",")
	}
	ops, err := callDaemon(ctx, &f, 30*time.Second, func(c context.Context, cl *control.Client) ([]control.OpView, error) {
		return cl.Queue(c, q)
	})
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(cio.stdout, ops)
	}
	printOps(cio.stdout, ops)
	return nil
}

// parseWhen reads a date (local midnight), an RFC 3339 time, or a
// duration back from now; "" is the zero time.
func parseWhen(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want a date (2026-03-04), an RFC 3339 time or a duration (24h)", v)
}

func printOps(w io.Writer, ops []control.OpView) {
	if len(ops) == 0 {
		fmt.Fprintln(w, "no operations")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tLANE\tKIND\tREF\tSTATE\tAMOUNT\tBUYER\tTRIES\tCODE\tREASON")
	for _, o := range ops {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", o.ID, clock(o.CreatedAt), o.Lane, o.Kind,
			o.Ref, o.State, receipt.FormatMoney(o.Amount, o.Currency), o.Buyer, o.Attempts, o.LastCode,
			shorten(o.Reason, 60))
	}
	tw.Flush()
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func runQueueShow(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	fs := newCtlFlagSet("queue show", queueUsage, cio, &f)
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	d, err := callDaemon(ctx, &f, 30*time.Second, func(c context.Context, cl *control.Client) (control.OpDetail, error) {
		return cl.Operation(c, id)
	})
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(cio.stdout, d)
	}
	printOpDetail(cio.stdout, d)
	return nil
}

func printOpDetail(w io.Writer, d control.OpDetail) {
	o := d.Op
	fmt.Fprintf(w, "%s %s %s on lane %s, ref %s\n", o.Kind, o.ID, o.State, o.Lane, o.Ref)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-17s %s\n", k+":", v)
		}
	}
	row("amount", receipt.FormatMoney(o.Amount, o.Currency))
	row("buyer", o.Buyer)
	row("partner_trans_id", o.PartnerTransID)
	row("partner_refund_id", o.PartnerRefundID)
	row("alipay_trans_id", o.AlipayTransID)
	row("refunds sale", o.ParentID)
	row("attempts", fmt.Sprint(o.Attempts))
	row("last code", o.LastCode)
	row("reason", o.Reason)
	row("created", clock(o.CreatedAt))
	if !o.NextAttemptAt.IsZero() {
		row("next attempt", clock(o.NextAttemptAt))
	}
	fmt.Fprintln(w, "events:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range d.Events {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s→%s\t%s\t%s\n", e.At.Local().Format("2006-01-02 15:04:05.000"), e.Name,
			e.Call, e.From, e.To, firstOf(e.Code, e.RawStatus), e.Detail)
	}
	tw.Flush()
	for _, r := range d.Refunds {
		fmt.Fprintf(w, "refund %s %s %s (ref %s)\n", r.ID, r.State, receipt.FormatMoney(r.Amount, r.Currency), r.Ref)
	}
}

func runQueueRetry(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	fs := newCtlFlagSet("queue retry", queueUsage, cio, &f)
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	op, err := callDaemon(ctx, &f, 30*time.Second, func(c context.Context, cl *control.Client) (control.OpView, error) {
		return cl.Retry(c, id)
	})
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(cio.stdout, op)
	}
	fmt.Fprintf(cio.stdout, "%s %s: retrying now (see tillbridge queue show %s)\n", op.ID, op.State, op.ID)
	return nil
}

func runQueueResolve(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	var req control.ResolveRequest
	fs := newCtlFlagSet("queue resolve", queueUsage, cio, &f)
	fs.StringVar(&req.State, "state", "", "final `state`: paid, declined, cancelled, voided (sales); refunded, declined (refunds)")
	fs.StringVar(&req.Reason, "reason", "", "why, e.g. what the merchant portal shows (required, journaled)")
	fs.StringVar(&req.Operator, "operator", defaultOperator(), "who resolves (journaled)")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.State) == "":
		return usageErr(errors.New("--state is required"))
	case strings.TrimSpace(req.Reason) == "":
		return usageErr(errors.New(`--reason is required: say what you checked, e.g. "TRADE_CLOSED in the merchant portal"`))
	case strings.TrimSpace(req.Operator) == "":
		return usageErr(errors.New("--operator is required (no user name could be found)"))
	}
	op, err := callDaemon(ctx, &f, 30*time.Second, func(c context.Context, cl *control.Client) (control.OpView, error) {
		return cl.Resolve(c, id, req)
	})
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(cio.stdout, op)
	}
	fmt.Fprintf(cio.stdout, "%s is now %s (%s)\n", op.ID, op.State, op.Reason)
	return nil
}

// defaultOperator is the person running the command: the sudo caller,
// else the current user.
func defaultOperator() string {
	if u := os.Getenv("SUDO_USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}
