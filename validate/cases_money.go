package validate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// paidCase is the part of a case that starts from a paid sale.
type paidCase func(ctx context.Context, c *caseRun, ref string, amount int64, currency string) error

// paySandbox makes a sale that pays at once on the sandbox.
func paySandbox(ctx context.Context, c *caseRun, amount int64) (string, error) {
	ref := c.ref()
	res, _, err := c.saleEvents(ctx, ref, amount, c.code(0))
	if err != nil {
		return "", err
	}
	if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
		return "", err
	}
	return ref, nil
}

func sandboxPaid(amount int64, fn paidCase) func(context.Context, *caseRun) error {
	return func(ctx context.Context, c *caseRun) error {
		ref, err := paySandbox(ctx, c, amount)
		if err != nil {
			return err
		}
		return fn(ctx, c, ref, amount, "HKD")
	}
}

var (
	cancelSameDay     = sandboxPaid(1000, cancelPaid)
	refundPartialFull = sandboxPaid(1000, refundPaid)
	refundRepeat      = sandboxPaid(1000, refundTwice)
)

// cancelPaid cancels a paid sale on its day: the trade is refunded whole.
func cancelPaid(ctx context.Context, c *caseRun, ref string, amount int64, currency string) error {
	var evs []string
	res, err := c.doWith(ctx, &ecrproto.Message{Type: ecrproto.TypeCancel, Lane: c.lane, Ref: ref}, func(m *ecrproto.Message) {
		evs = append(evs, m.Event)
	})
	if err != nil {
		return err
	}
	if res.Status == ecrproto.StatusCancelled && res.Reason == "CANCEL_QUEUED" {
		if res, err = c.statusUntilFinal(ctx, ref, time.Minute); err != nil {
			return err
		}
	}
	if err := c.expectResult(res, ecrproto.StatusCancelled, ""); err != nil {
		return err
	}
	cs := c.calls(c.ptid(ctx, ref), "cancel")
	c.check("cancel confirmed with action=refund", len(cs) > 0 && strings.Contains(cs[len(cs)-1].Answer, "<action>refund</action>"),
		"cancel answers %v", results(cs))
	c.check("slip printed", has(evs, ecrproto.EventPrinting) && !has(evs, ecrproto.EventPrinterError), "events %s", strings.Join(evs, ","))
	return nil
}

func (c *caseRun) refund(ctx context.Context, ref, rref string, amount int64, currency string) (*ecrproto.Message, error) {
	res, err := c.do(ctx, &ecrproto.Message{Type: ecrproto.TypeRefund, Lane: c.lane, Ref: ref, RefundRef: rref,
		Amount: ecrproto.Int(amount), Currency: currency})
	if err != nil || res.Status != ecrproto.StatusPending {
		return res, err
	}
	return c.statusUntilFinal(ctx, rref, time.Minute)
}

// refundPaid refunds part of a paid sale, then the rest, then tries one
// minor unit more.
func refundPaid(ctx context.Context, c *caseRun, ref string, amount int64, currency string) error {
	part := amount * 3 / 10
	if part == 0 {
		part = 1
	}
	for i, amt := range []int64{part, amount - part} {
		if amt == 0 {
			continue
		}
		res, err := c.refund(ctx, ref, fmt.Sprintf("%s-R%d", ref, i+1), amt, currency)
		if err != nil {
			return err
		}
		if err := c.expectResult(res, ecrproto.StatusRefunded, ""); err != nil {
			return err
		}
	}
	res, err := c.refund(ctx, ref, ref+"-R3", 1, currency)
	if err != nil {
		return err
	}
	c.check("over-refund refused", res.Type == ecrproto.TypeError && res.Field == "amount" || res.Status == ecrproto.StatusDeclined,
		"one more unit: %s %s", answerLabel(res), res.Message)
	rs := c.calls(c.ptid(ctx, ref), "spot.refund")
	c.check("two refunds sent", countResult(rs, "SUCCESS") == 2, "refund answers %v", results(rs))
	return nil
}

// refundTwice sends the same refund twice.
func refundTwice(ctx context.Context, c *caseRun, ref string, amount int64, currency string) error {
	rref := ref + "-R1"
	var alipayIDs []string
	for i := 0; i < 2; i++ {
		res, err := c.refund(ctx, ref, rref, amount/2, currency)
		if err != nil {
			return err
		}
		if err := c.expectResult(res, ecrproto.StatusRefunded, ""); err != nil {
			return err
		}
		alipayIDs = append(alipayIDs, res.AlipayTransID)
	}
	_, raw := c.journalOps(ctx)
	n := 0
	for _, op := range raw {
		if op.Kind == queue.KindRefund {
			n++
		}
	}
	c.check("one refund in the journal", n == 1, "%d refund operations", n)
	rs := c.calls(c.ptid(ctx, ref), "spot.refund")
	ids := map[string]bool{}
	for _, r := range rs {
		ids[r.Params["partner_refund_id"]] = true
	}
	c.check("one partner_refund_id on the wire", len(ids) == 1, "refund calls %d with ids %v", len(rs), keysOf(ids))
	return nil
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// lostResult drops the ECR connection after SENT; STATUS and a repeated
// SALE on new connections give the one result.
func lostResult(ctx context.Context, c *caseRun) error {
	return lostResultWith(ctx, c, c.code(10))
}

func lostResultWith(ctx context.Context, c *caseRun, code string) error {
	ref := c.ref()
	sent, waiting, scanned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	cl, err := c.dial(ctx, func(m *ecrproto.Message) {
		switch m.Event {
		case ecrproto.EventSent:
			closeOnce(sent)
		case ecrproto.EventWaitScan:
			closeOnce(waiting)
		case ecrproto.EventScanned:
			closeOnce(scanned)
		}
	})
	if err != nil {
		return err
	}
	m := sale(c.lane, ref, 1600, c.o.Currency, code)
	if code == "" {
		m.Barcode = ""
	}
	go func() { _, _ = c.send(ctx, cl, m) }()
	if code == "" {
		select {
		case <-waiting:
		case <-time.After(stepBound):
		}
		if err := c.deliverCode(ctx, c.res.ID+" — show a payment code; the till will drop its connection mid-sale", scanned); err != nil {
			cl.Close()
			return err
		}
	}
	select {
	case <-sent:
	case <-time.After(stepBound):
		cl.Close()
		return c.require("SENT event", false, "no SENT event")
	}
	cl.Close()
	c.note(ActorECR, ActorDaemon, "connection dropped", "the ECR lost its connection mid-sale")
	res, err := c.statusUntilFinal(ctx, ref, 2*time.Minute)
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
		return err
	}
	again, err := c.do(ctx, m)
	if err != nil {
		return err
	}
	c.check("repeated SALE gives the same result", again.Status == res.Status && again.AlipayTransID == res.AlipayTransID,
		"STATUS %s %s; repeated SALE %s %s", res.Status, res.AlipayTransID, answerLabel(again), again.AlipayTransID)
	ptid := c.ptid(ctx, ref)
	c.check("one pay", len(c.calls(ptid, "spot.pay")) == 1, "%d pay calls", len(c.calls(ptid, "spot.pay")))
	return nil
}

// paidSale is a test payment that may need refunding at the end.
type paidSale struct {
	lane, ref, currency string
	left                int64
}

// paidSales lists the case's sales still holding money.
func (c *caseRun) paidSales() []paidSale {
	_, raw := c.journalOps(context.Background())
	left := map[string]*paidSale{}
	var order []string
	for _, op := range raw {
		if op.Kind == queue.KindSale && op.State == queue.StatePaid {
			left[op.ID] = &paidSale{lane: op.Lane, ref: op.Ref, currency: op.Currency, left: op.Amount}
			order = append(order, op.ID)
		}
	}
	for _, op := range raw {
		if p := left[op.ParentID]; op.Kind == queue.KindRefund && p != nil && op.State != queue.StateRefundDeclined {
			p.left -= op.Amount
		}
	}
	var out []paidSale
	for _, id := range order {
		if p := left[id]; p.left > 0 {
			out = append(out, *p)
		}
	}
	return out
}

// refundAll refunds what is left of every test payment.
func refundAll(ctx context.Context, e *env, sales []paidSale, prefix string) []Check {
	var out []Check
	for i, s := range sales {
		c := &caseRun{e: e, lane: s.lane, res: &CaseResult{}}
		rref := fmt.Sprintf("%s-CLEAN-%d", prefix, i+1)
		res, err := c.refund(ctx, s.ref, rref, s.left, s.currency)
		ch := Check{Name: "refund " + s.ref}
		switch {
		case err != nil:
			ch.Detail = err.Error()
		default:
			ch.OK = res.Status == ecrproto.StatusRefunded
			ch.Detail = fmt.Sprintf("%d %s: %s %s", s.left, s.currency, answerLabel(res), res.Message)
		}
		out = append(out, ch)
	}
	return out
}
