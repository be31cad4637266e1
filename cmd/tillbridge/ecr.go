package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// Exit codes of `tillbridge ecr` beyond the shared ones (documented in its
// usage): a final RESULT is 0 whatever its status; an ERROR answer is 1;
// no daemon is 3; PENDING (or no final answer before --timeout) is 5.
const exitPending = 5

func ecrCommand() command {
	return command{
		name:    "ecr",
		summary: "act as an ECR: sale, status, cancel, refund, scan, abort, print, devices, ping",
		run:     runECR,
	}
}

const ecrUsage = `usage: tillbridge ecr <request> [flags]

Sends one request to the daemon over the ECR protocol, as cash-register
software does, prints every EVENT as it arrives and the final RESULT.

Requests:
  sale     --lane L --amount MINOR --currency CUR [--ref R] [--barcode CODE] [--subject S]
  status   --lane L [--ref R]          (no ref: the lane's last sale)
  cancel   --lane L --ref R
  refund   --lane L --ref R --amount MINOR --currency CUR [--refund-ref RR]
  scan     --lane L --barcode CODE     (deliver a code to a lane waiting for one)
  abort    --lane L [--ref R]
  print    --lane L --text TEXT        (print text on the lane's printer)
  devices  [--lane L]
  ping

Amounts are integer minor units: --amount 1250 --currency HKD is HKD 12.50.
Without --ref a sale gets a fresh ref (printed); repeating a sale with the
same ref never pays twice: it attaches to the running sale or returns its
result.

Exit codes: 0 a final RESULT (APPROVED, DECLINED, CANCELLED, REFUNDED,
MANUAL, OK); 1 an ERROR answer or a failure; 2 bad flags; 3 the daemon is
not reachable; 5 PENDING, or no final answer before --timeout (ask again
with status and the same ref).

Examples:
  tillbridge ecr sale --lane 1 --amount 1250 --currency HKD --barcode 281234567890123400
  tillbridge ecr sale --framed --lane 2 --amount 500 --currency HKD
  tillbridge ecr scan --lane 2 --barcode 281234567890123410
  tillbridge ecr status --lane 1 --ref T1764100000000 --json

Flags:
`

// ecrFlags are the flags of every ecr request (each uses its own subset).
type ecrFlags struct {
	addr, unix, key            string
	framed, json               bool
	timeout                    time.Duration
	lane, ref, refundRef       string
	currency, subject, barcode string
	text                       string
	amount                     int64
}

func (f *ecrFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", ecrproto.DefaultTCPAddress, "daemon ECR TCP `address`")
	fs.StringVar(&f.unix, "unix", "", "connect to this unix socket `path` instead of TCP")
	fs.StringVar(&f.key, "key", "", "shared `key` for a remote listener (sent in HELLO)")
	fs.BoolVar(&f.framed, "framed", false, "use the legacy STX/ETX/LRC framing instead of JSON lines")
	fs.BoolVar(&f.json, "json", false, "print the raw messages as JSON lines")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up waiting for the final answer after this")
	fs.StringVar(&f.lane, "lane", "", "lane `id`")
	fs.StringVar(&f.ref, "ref", "", "the sale's `ref` (idempotency key)")
	fs.StringVar(&f.refundRef, "refund-ref", "", "the refund's `ref` (default: generated)")
	fs.Int64Var(&f.amount, "amount", 0, "amount in integer minor units")
	fs.StringVar(&f.currency, "currency", "", "ISO 4217 `code`, e.g. HKD")
	fs.StringVar(&f.subject, "subject", "", "what the buyer sees in Alipay")
	fs.StringVar(&f.barcode, "barcode", "", "the customer's payment `code`")
	fs.StringVar(&f.text, "text", "", "text to print (print)")
}

func runECR(ctx context.Context, cio cmdIO, args []string) error {
	var f ecrFlags
	fs := flag.NewFlagSet("ecr", flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() {
		fmt.Fprint(cio.stderr, ecrUsage)
		fs.PrintDefaults()
	}
	f.register(fs)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs.Usage()
		return usageErr(errors.New("missing request (sale, status, cancel, refund, scan, abort, print, devices, ping)"))
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	req, err := f.request(verb, time.Now())
	if err != nil {
		return usageErr(err)
	}
	return f.send(ctx, cio, req)
}

// request builds the message for verb from the flags.
func (f *ecrFlags) request(verb string, now time.Time) (*ecrproto.Message, error) {
	need := func(name, v string) error {
		if v == "" {
			return fmt.Errorf("%s needs --%s", verb, name)
		}
		return nil
	}
	m := &ecrproto.Message{Lane: f.lane, Ref: f.ref}
	var errs []error
	switch verb {
	case "sale":
		if m.Ref == "" {
			m.Ref = fmt.Sprintf("T%d", now.UnixMilli())
		}
		m.Type, m.Amount, m.Currency = ecrproto.TypeSale, ecrproto.Int(f.amount), f.currency
		m.Subject, m.Barcode = f.subject, f.barcode
		errs = append(errs, need("lane", f.lane), need("currency", f.currency))
	case "status", "abort":
		m.Type = map[string]string{"status": ecrproto.TypeStatus, "abort": ecrproto.TypeAbort}[verb]
		errs = append(errs, need("lane", f.lane))
	case "cancel":
		m.Type = ecrproto.TypeCancel
		errs = append(errs, need("lane", f.lane), need("ref", f.ref))
	case "refund":
		m.Type, m.Amount, m.Currency, m.RefundRef = ecrproto.TypeRefund, ecrproto.Int(f.amount), f.currency, f.refundRef
		if m.RefundRef == "" {
			m.RefundRef = fmt.Sprintf("R%d", now.UnixMilli())
		}
		errs = append(errs, need("lane", f.lane), need("ref", f.ref), need("currency", f.currency))
	case "scan":
		m.Type, m.Barcode = ecrproto.TypeScan, f.barcode
		errs = append(errs, need("lane", f.lane), need("barcode", f.barcode))
	case "print":
		m.Type, m.Receipt = ecrproto.TypePrint, f.text
		errs = append(errs, need("lane", f.lane))
	case "devices":
		m.Type = ecrproto.TypeDevices
	case "ping":
		m.Type = ecrproto.TypePing
	default:
		return nil, fmt.Errorf("unknown request %q (sale, status, cancel, refund, scan, abort, print, devices, ping)", verb)
	}
	return m, errors.Join(errs...)
}

// send connects, sends req, prints the answers and maps the final one to
// the exit code.
func (f *ecrFlags) send(ctx context.Context, cio cmdIO, req *ecrproto.Message) error {
	p := &printer{w: cio.stdout, json: f.json}
	network, addr := ecrproto.NetworkTCP, f.addr
	if f.unix != "" {
		network, addr = ecrproto.NetworkUnix, f.unix
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	c, err := ecrproto.Dial(ctx, network, addr, &ecrproto.ClientOptions{Framed: f.framed, Key: f.key, OnEvent: p.print})
	if err != nil {
		return &exitError{code: exitNoDaemon, err: err}
	}
	defer c.Close()
	if req.Type == ecrproto.TypeSale && !f.json {
		fmt.Fprintf(cio.stdout, "sale %s on lane %s\n", req.Ref, req.Lane)
	}
	res, err := c.Do(ctx, req)
	if errors.Is(err, context.DeadlineExceeded) {
		return &exitError{code: exitPending, err: fmt.Errorf("no final answer within %s; ask: tillbridge ecr status --lane %s --ref %s", f.timeout, req.Lane, req.Ref)}
	}
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	p.print(res)
	return resultExit(res)
}

// resultExit maps the final answer to the documented exit code.
func resultExit(m *ecrproto.Message) error {
	switch {
	case m.Type == ecrproto.TypeError:
		return &exitError{code: exitFailure, err: fmt.Errorf("%s: %s", m.Code, m.Message)}
	case m.Status == ecrproto.StatusPending:
		return &exitError{code: exitPending, err: errors.New("not final yet (PENDING); ask again with status and the same ref")}
	}
	return nil
}

// printer writes messages as they arrive, human-readable or as JSON lines.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (p *printer) print(m *ecrproto.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, err := m.MarshalJSON()
		if err == nil {
			fmt.Fprintf(p.w, "%s\n", b)
		}
		return
	}
	switch m.Type {
	case ecrproto.TypeEvent:
		fmt.Fprintf(p.w, "  %-19s %s\n", m.Event, m.Message)
	case ecrproto.TypeError:
		fmt.Fprintf(p.w, "ERROR %s", m.Code)
		if m.Field != "" {
			fmt.Fprintf(p.w, " (%s)", m.Field)
		}
		fmt.Fprintf(p.w, ": %s\n", m.Message)
	default:
		printResult(p.w, m)
	}
}

// printResult writes a RESULT: status first, then every other field set.
func printResult(w io.Writer, m *ecrproto.Message) {
	fmt.Fprintf(w, "%s\n", m.Status)
	fields := map[string]string{"reason": m.Reason, "message": m.Message, "ref": m.Ref,
		"refund_ref": m.RefundRef, "alipay_trans_id": m.AlipayTransID, "buyer": m.Buyer,
		"exchange_rate": m.ExchangeRate, "paid_at": m.PaidAt, "currency": m.Currency}
	if m.Amount != nil {
		fields["amount"] = fmt.Sprint(*m.Amount)
	}
	if m.AmountCNY != nil {
		fields["amount_cny"] = fmt.Sprint(*m.AmountCNY)
	}
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-16s %s\n", k+":", fields[k])
	}
	if m.Receipt != "" {
		fmt.Fprintf(w, "  receipt:\n")
		for _, line := range strings.Split(m.Receipt, "\n") {
			fmt.Fprintf(w, "    | %s\n", line)
		}
	}
}
