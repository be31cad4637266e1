package validate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/daemon/logging"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// stepBound bounds one ECR request of an unattended case: a hung daemon
// fails the case instead of hanging the run.
const stepBound = 2 * time.Minute

// caseRun is the state of one running case: its ECR traffic, the refs it
// used (to find its journal operations and gateway calls) and its checks.
type caseRun struct {
	o   *Options
	e   *env
	res *CaseResult
	p   *prompter
	// lane is the lane the case sells on; seq numbers its refs.
	lane   string
	prefix string
	seq    int

	mu       sync.Mutex
	ecr      []Entry
	sales    []laneRef // the case's sales
	printed  int64     // the lane's printer file size when the case started
	lastRcpt string    // last receipt text a RESULT carried
}

// laneRef names a sale.
type laneRef struct{ lane, ref string }

// errStop ends a case early after a failed requirement (already recorded
// as a failed check).
var errStop = errors.New("stopped after a failed requirement")

// check records an assertion; it returns ok.
func (c *caseRun) check(name string, ok bool, format string, args ...any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Checks = append(c.res.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	return ok
}

// require is check that stops the case when it fails.
func (c *caseRun) require(name string, ok bool, format string, args ...any) error {
	if !c.check(name, ok, format, args...) {
		return errStop
	}
	return nil
}

// ref returns a new ref unique to this run.
func (c *caseRun) ref() string {
	c.seq++
	return fmt.Sprintf("%s-%s-%d", c.prefix, strings.ReplaceAll(c.res.ID, "-", ""), c.seq)
}

// note adds an ECR-side timeline entry.
func (c *caseRun) note(from, to, label, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ecr = append(c.ecr, Entry{At: time.Now(), From: from, To: to, Label: label, Detail: detail})
}

// dial opens an ECR connection whose EVENTs go to the timeline (and to
// onEvent, when not nil).
func (c *caseRun) dial(ctx context.Context, onEvent func(*ecrproto.Message)) (*ecrproto.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cl, err := ecrproto.Dial(dctx, "tcp", c.e.ecrAddr, &ecrproto.ClientOptions{OnEvent: func(m *ecrproto.Message) {
		c.note(ActorDaemon, ActorECR, "EVENT "+m.Event, m.Message)
		if onEvent != nil {
			onEvent(m)
		}
	}})
	if err != nil {
		return nil, fmt.Errorf("connect to the daemon's ECR port: %w", err)
	}
	return cl, nil
}

// do sends one request on a fresh connection and returns its final answer.
func (c *caseRun) do(ctx context.Context, m *ecrproto.Message) (*ecrproto.Message, error) {
	return c.doWith(ctx, m, nil)
}

func (c *caseRun) doWith(ctx context.Context, m *ecrproto.Message, onEvent func(*ecrproto.Message)) (*ecrproto.Message, error) {
	cl, err := c.dial(ctx, onEvent)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return c.send(ctx, cl, m)
}

// send sends m on cl, recording the request and its answer.
func (c *caseRun) send(ctx context.Context, cl *ecrproto.Client, m *ecrproto.Message) (*ecrproto.Message, error) {
	c.note(ActorECR, ActorDaemon, requestLabel(m), "")
	if m.Type == ecrproto.TypeSale {
		c.mu.Lock()
		c.sales = append(c.sales, laneRef{m.Lane, m.Ref})
		c.mu.Unlock()
	}
	dctx, cancel := context.WithTimeout(ctx, stepBound)
	defer cancel()
	res, err := cl.Do(dctx, m)
	if err != nil {
		c.note(ActorDaemon, ActorECR, "no answer", err.Error())
		return nil, fmt.Errorf("%s %s: %w", m.Type, m.Ref, err)
	}
	c.note(ActorDaemon, ActorECR, answerLabel(res), res.Message)
	if res.Receipt != "" {
		c.mu.Lock()
		c.lastRcpt = res.Receipt
		c.mu.Unlock()
	}
	return res, nil
}

func requestLabel(m *ecrproto.Message) string {
	parts := []string{m.Type}
	if m.Ref != "" {
		parts = append(parts, m.Ref)
	}
	if m.RefundRef != "" {
		parts = append(parts, m.RefundRef)
	}
	if m.Amount != nil {
		parts = append(parts, fmt.Sprintf("%d %s", *m.Amount, m.Currency))
	}
	if m.Barcode != "" {
		parts = append(parts, "code "+logging.MaskCode(m.Barcode))
	}
	return strings.Join(parts, " ")
}

func answerLabel(m *ecrproto.Message) string {
	if m.Type == ecrproto.TypeError {
		return "ERROR " + m.Code + " " + m.Field
	}
	s := "RESULT " + m.Status
	if m.Reason != "" {
		s += " " + m.Reason
	}
	return s
}

func sale(lane, ref string, amount int64, currency, code string) *ecrproto.Message {
	return &ecrproto.Message{Type: ecrproto.TypeSale, Lane: lane, Ref: ref, Amount: ecrproto.Int(amount),
		Currency: currency, Barcode: code}
}

// statusUntilFinal asks STATUS until the answer is no longer PENDING.
func (c *caseRun) statusUntilFinal(ctx context.Context, ref string, bound time.Duration) (*ecrproto.Message, error) {
	cl, err := c.dial(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	deadline := time.Now().Add(bound)
	for {
		res, err := c.send(ctx, cl, &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: c.lane, Ref: ref})
		if err != nil {
			return nil, err
		}
		if res.Status != ecrproto.StatusPending || time.Now().After(deadline) {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// journalOps reads the journal's operations of the case's sales and their
// refunds, with their event logs.
func (c *caseRun) journalOps(ctx context.Context) ([]JournalOp, []queue.Operation) {
	eng := c.e.d.Engine()
	var out []JournalOp
	var raw []queue.Operation
	seen := map[laneRef]bool{}
	c.mu.Lock()
	sales := append([]laneRef(nil), c.sales...)
	c.mu.Unlock()
	for _, s := range sales {
		if seen[s] {
			continue
		}
		seen[s] = true
		op, err := eng.GetByRef(ctx, s.lane, queue.KindSale, s.ref)
		if err != nil {
			continue // refused before the journal (e.g. an invalid code)
		}
		ops := []queue.Operation{op}
		if refunds, err := eng.Refunds(ctx, op.ID); err == nil {
			ops = append(ops, refunds...)
		}
		for _, o := range ops {
			raw = append(raw, o)
			jo := JournalOp{ID: o.ID, Kind: string(o.Kind), Ref: o.Ref, State: string(o.State),
				PartnerTransID: o.PartnerTransID, RefundID: o.PartnerRefundID, Amount: o.Amount,
				Currency: o.Currency, AlipayTransID: o.AlipayTransID, Reason: o.Reason}
			if evs, err := eng.Events(ctx, o.ID); err == nil {
				for _, ev := range evs {
					jo.Events = append(jo.Events, JournalEvent{At: ev.At, Name: string(ev.Name), Call: string(ev.Call),
						From: string(ev.From), To: string(ev.To), Code: ev.Code, Detail: ev.Detail})
				}
			}
			out = append(out, jo)
		}
	}
	return out, raw
}

// finish gathers the evidence of the case: journal, gateway calls,
// timeline, ledger, receipt; and sets the verdict.
func (c *caseRun) finish(ctx context.Context, runErr error) {
	res := c.res
	res.Took = time.Since(res.Started)
	var raw []queue.Operation
	res.Journal, raw = c.journalOps(ctx)
	ids := map[string]bool{}
	for _, op := range raw {
		ids[op.PartnerTransID] = true
	}
	res.Gateway = c.e.rec.For(ids)
	c.mu.Lock()
	ecr := append([]Entry(nil), c.ecr...)
	c.mu.Unlock()
	res.Timeline = buildTimeline(ecr, res.Journal, res.Gateway)
	res.Ledger = c.ledgerCheck(ctx, raw)
	res.Receipt = c.receipt()
	res.Verdict = Pass
	if runErr != nil && !errors.Is(runErr, errStop) {
		res.Verdict, res.Reason = Fail, runErr.Error()
	}
	for _, ch := range res.Checks {
		if !ch.OK && res.Verdict == Pass {
			res.Verdict, res.Reason = Fail, ch.Name+": "+ch.Detail
		}
	}
	if res.Ledger.Available && !res.Ledger.OK && res.Verdict == Pass {
		for _, l := range res.Ledger.Lines {
			if !l.OK {
				res.Verdict, res.Reason = Fail, "ledger: "+l.Name+": "+l.Detail
				break
			}
		}
	}
}

// buildTimeline merges the ECR traffic, the journal's transitions and the
// gateway calls in time order.
func buildTimeline(ecr []Entry, ops []JournalOp, calls []Exchange) []Entry {
	out := append([]Entry(nil), ecr...)
	for _, op := range ops {
		for _, ev := range op.Events {
			if ev.From == ev.To && ev.From != "" {
				continue // attempts and answers: the gateway arrows show them
			}
			label := fmt.Sprintf("%s %s: %s → %s", op.Kind, op.Ref, orDash(ev.From), ev.To)
			out = append(out, Entry{At: ev.At, From: ActorJournal, To: ActorJournal, Label: label,
				Detail: strings.TrimSpace(ev.Name + " " + ev.Code)})
		}
	}
	for _, ex := range calls {
		out = append(out, Entry{At: ex.At, From: ActorDaemon, To: ActorGateway, Label: shortService(ex.Service),
			Detail: paramLine(ex.Params)})
		ans := Entry{At: ex.At.Add(ex.Took), From: ActorGateway, To: ActorDaemon, Label: ex.Result}
		if ex.Error != "" {
			ans.Label, ans.Detail = "✕ "+ex.Error, ""
		} else if ans.Label == "" {
			ans.Label = fmt.Sprintf("HTTP %d", ex.HTTP)
		}
		out = append(out, ans)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// shortService names a service for the picture.
func shortService(s string) string {
	switch s {
	case "alipay.acquire.overseas.spot.pay":
		return "spot.pay"
	case "alipay.acquire.overseas.query":
		return "query"
	case "alipay.acquire.cancel":
		return "cancel"
	case "alipay.acquire.overseas.spot.refund":
		return "spot.refund"
	}
	return s
}

// paramLine lists the signed parameters, name=value, in name order.
func paramLine(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+p[k])
	}
	return strings.Join(parts, "&")
}

// printerSize is the size of the lane's printer file (0 if none).
func (c *caseRun) printerSize() int64 {
	path, _ := c.e.printerFile(c.lane)
	if path == "" {
		return 0
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
