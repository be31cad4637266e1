package validate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// Case is one certification scenario.
type Case struct {
	// ID is stable (SPOT-001 … for the iValidate barcode cases).
	ID    string
	Title string
	// Expect says what a correct integration does.
	Expect string
	// Why explains, for a sandbox-only case, why it cannot be forced on
	// the configured gateway.
	Why string
	// Sandbox runs the case unattended; Configured runs it against the
	// configured gateway with a person's help (nil: sandbox only).
	Sandbox    func(context.Context, *caseRun) error
	Configured func(context.Context, *caseRun) error
	// Kill9 marks the crash case, run on a subprocess of its own.
	Kill9 bool
}

// Cases lists every case in run order.
func Cases() []Case {
	return []Case{
		{ID: "SPOT-001", Title: "direct payment", Expect: "APPROVED after one spot.pay answered SUCCESS/TRADE_SUCCESS; " +
			"extend_info carries store_id and secondary_merchant_id; the receipt prints",
			Sandbox: spot001, Configured: manualApproved("show a payment code (no PIN needed for this small amount)")},
		{ID: "SPOT-002", Title: "24-digit payment code", Expect: "a 24-digit code is sent whole and APPROVED",
			Why: "a wallet cannot be made to show a 24-digit code on demand", Sandbox: spot002},
		{ID: "SPOT-003", Title: "password required", Expect: "pay answers UNKNOW; the daemon queries every few seconds " +
			"while WAIT_BUYER_PAY, until TRADE_SUCCESS; APPROVED",
			Sandbox: spot003, Configured: manualPIN},
		{ID: "SPOT-004", Title: "payment expires", Expect: "still WAIT_BUYER_PAY at the pay deadline: cancel sent, CANCELLED (PAY_DEADLINE), trade closed",
			Sandbox: spot004, Configured: manualExpire},
		{ID: "SPOT-005", Title: "SYSTEM_ERROR retried", Expect: "query answering SYSTEM_ERROR is retried until TRADE_SUCCESS; " +
			"cancel answering SYSTEM_ERROR is retried until confirmed; a pay answering SYSTEM_ERROR is never re-sent under a new id",
			Why: "Alipay's gateway cannot be made to answer SYSTEM_ERROR", Sandbox: spot005},
		{ID: "SPOT-006", Title: "timeout / lost answer", Expect: "a pay whose answer is lost or too late is resolved by query: APPROVED, one trade, one pay call",
			Why: "the answer of Alipay's gateway cannot be made to get lost", Sandbox: spot006},
		{ID: "BALANCE", Title: "insufficient balance", Expect: "DECLINED with BUYER_BALANCE_NOT_ENOUGH; nothing charged",
			Why: "needs a wallet without funds", Sandbox: declined(20, "BUYER_BALANCE_NOT_ENOUGH")},
		{ID: "INVALID-CODE", Title: "invalid payment code", Expect: "a code that is not an Alipay code is refused (E_FIELD barcode) " +
			"before anything is sent; a code Alipay does not know is DECLINED (BUYER_NOT_EXIST)",
			Sandbox: invalidCode, Configured: invalidCodeConfigured},
		{ID: "CANCEL", Title: "cancel the same day", Expect: "a paid sale cancelled on its Beijing day: CANCELLED, the trade refunded and closed",
			Sandbox: cancelSameDay, Configured: withManualSale(cancelPaid)},
		{ID: "REFUND", Title: "partial and full refund", Expect: "a partial refund then the rest: both REFUNDED; the trade closes; " +
			"one more minor unit is refused as an over-refund",
			Sandbox: refundPartialFull, Configured: withManualSale(refundPaid)},
		{ID: "REFUND-REPEAT", Title: "repeated refund is idempotent", Expect: "the same refund_ref sent twice refunds once",
			Sandbox: refundRepeat, Configured: withManualSale(refundTwice)},
		{ID: "LOST-RESULT", Title: "lost result recovered by STATUS", Expect: "the ECR connection drops mid-sale; STATUS and a repeated SALE " +
			"with the same ref give the one true result; one trade",
			Sandbox: lostResult, Configured: manualLostResult},
		{ID: "KILL-9", Title: "kill -9 mid-sale", Expect: "the daemon killed with sales in flight is restarted: STATUS gives APPROVED " +
			"(never a second payment), the ledger holds one trade per sale",
			Why: "it needs the sandbox's state file to restart the gateway as it was", Kill9: true},
	}
}

func selected(ids []string) []Case {
	if len(ids) == 0 {
		return Cases()
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []Case
	for _, c := range Cases() {
		if want[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// code returns an 18-digit sandbox buyer code choosing scenario sc.
func (c *caseRun) code(sc int) string {
	c.seq++
	return fmt.Sprintf("28%08d%06d%02d", time.Now().Unix()%1e8, c.seq, sc)
}

// expectResult checks a RESULT's status (and reason, when not empty).
func (c *caseRun) expectResult(res *ecrproto.Message, status, reason string) error {
	got := answerLabel(res)
	ok := res.Type == ecrproto.TypeResult && res.Status == status && (reason == "" || res.Reason == reason)
	want := "RESULT " + status
	if reason != "" {
		want += " " + reason
	}
	return c.require("ECR result", ok, "want %s, got %s %s", want, got, res.Message)
}

// calls returns the case's recorded gateway calls of one service.
func (c *caseRun) calls(ptid, service string) []Exchange {
	var out []Exchange
	for _, ex := range c.e.rec.For(map[string]bool{ptid: true}) {
		if shortService(ex.Service) == service {
			out = append(out, ex)
		}
	}
	return out
}

// ptid is the partner_trans_id the journal gave the sale ref.
func (c *caseRun) ptid(ctx context.Context, ref string) string {
	_, raw := c.journalOps(ctx)
	for _, op := range raw {
		if op.Ref == ref {
			return op.PartnerTransID
		}
	}
	return ""
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *caseRun) saleEvents(ctx context.Context, ref string, amount int64, code string) (*ecrproto.Message, []string, error) {
	var evs []string
	var mu = &c.mu
	res, err := c.doWith(ctx, sale(c.lane, ref, amount, "HKD", code), func(m *ecrproto.Message) {
		mu.Lock()
		evs = append(evs, m.Event)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	return res, append([]string(nil), evs...), err
}

func spot001(ctx context.Context, c *caseRun) error {
	ref := c.ref()
	res, evs, err := c.saleEvents(ctx, ref, 1250, c.code(0))
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
		return err
	}
	c.check("alipay_trans_id on the RESULT", res.AlipayTransID != "", "alipay_trans_id %q", res.AlipayTransID)
	pays := c.calls(c.ptid(ctx, ref), "spot.pay")
	if err := c.require("one spot.pay", len(pays) == 1, "%d spot.pay calls", len(pays)); err != nil {
		return err
	}
	c.check("pay answered SUCCESS", strings.Contains(pays[0].Result, "SUCCESS"), "answer %q", pays[0].Result)
	c.checkExtendInfo(pays[0])
	c.checkPrinted(evs)
	return c.checkMerchantAtGateway(ctx, ref)
}

// checkMerchantAtGateway checks that the gateway recorded the store and
// the secondary merchant with the trade (the sandbox's ledger).
func (c *caseRun) checkMerchantAtGateway(ctx context.Context, ref string) error {
	trades, ok, err := c.e.ledger(ctx)
	if !ok || err != nil {
		return err
	}
	tr, found := trades[c.ptid(ctx, ref)]
	g := c.e.cfg.Gateway
	c.check("gateway recorded store and merchant", found && tr.Merchant.StoreID == g.StoreID &&
		tr.Merchant.SecondaryMerchantID == g.SecondaryMerchantID,
		"ledger merchant %+v; configured store_id %q, secondary_merchant_id %q", tr.Merchant, g.StoreID, g.SecondaryMerchantID)
	return nil
}

// checkExtendInfo checks that the pay carried the merchant fields
// (store_id and secondary_merchant_id above all: the acquirer's checks).
func (c *caseRun) checkExtendInfo(pay Exchange) {
	ext := pay.Params["extend_info"]
	g := c.e.cfg.Gateway
	var missing []string
	for _, f := range []struct{ name, want string }{{"store_id", g.StoreID}, {"secondary_merchant_id", g.SecondaryMerchantID},
		{"secondary_merchant_name", g.SecondaryMerchantName}, {"secondary_merchant_industry", g.SecondaryMerchantIndustry},
		{"store_name", g.StoreName}} {
		want := fmt.Sprintf("%q:%q", f.name, f.want)
		ok := f.want != "" && strings.Contains(ext, want)
		if f.name == "store_id" || f.name == "secondary_merchant_id" {
			c.check(f.name+" sent", ok, "want %s in extend_info", want)
		} else if !ok {
			missing = append(missing, want)
		}
	}
	suffix := ""
	if len(missing) > 0 {
		suffix = " — missing " + strings.Join(missing, ", ")
	}
	c.check("extend_info complete", len(missing) == 0, "extend_info=%s%s", ext, suffix)
}

// checkPrinted checks that the receipt went to the printer.
func (c *caseRun) checkPrinted(evs []string) {
	c.check("receipt printed", has(evs, ecrproto.EventPrinting) && !has(evs, ecrproto.EventPrinterError),
		"events %s", strings.Join(evs, ","))
	if path, _ := c.e.printerFile(c.lane); path != "" {
		n := c.printerSize()
		c.check("printer received the job", n > c.printed, "printer file %s grew %d bytes", path, n-c.printed)
	}
}

func spot002(ctx context.Context, c *caseRun) error {
	c.seq++
	code := fmt.Sprintf("28%012d%08d00", time.Now().Unix()%1e12, c.seq)
	ref := c.ref()
	res, _, err := c.saleEvents(ctx, ref, 800, code)
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
		return err
	}
	pays := c.calls(c.ptid(ctx, ref), "spot.pay")
	c.check("24 digits sent", len(pays) == 1 && pays[0].CodeLen == 24, "buyer_identity_code lengths sent: %v", codeLens(pays))
	return nil
}

func codeLens(xs []Exchange) []int {
	var out []int
	for _, x := range xs {
		out = append(out, x.CodeLen)
	}
	return out
}

func spot003(ctx context.Context, c *caseRun) error {
	ref := c.ref()
	res, evs, err := c.saleEvents(ctx, ref, 2000, c.code(10))
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
		return err
	}
	return c.checkPINFlow(ctx, ref, evs)
}

// checkPINFlow checks the UNKNOW → WAIT_BUYER_PAY polling → TRADE_SUCCESS
// sequence of a password-confirmed payment.
func (c *caseRun) checkPINFlow(ctx context.Context, ref string, evs []string) error {
	ptid := c.ptid(ctx, ref)
	pays, queries := c.calls(ptid, "spot.pay"), c.calls(ptid, "query")
	c.check("ECR told to wait for the PIN", has(evs, ecrproto.EventWaitBuyerConfirm), "events %s", strings.Join(evs, ","))
	c.check("pay answered UNKNOW", len(pays) == 1 && strings.Contains(pays[0].Result, "UNKNOW"), "pay answers %v", results(pays))
	waits := 0
	for _, q := range queries {
		if strings.Contains(q.Result, "WAIT_BUYER_PAY") {
			waits++
		}
	}
	c.check("polled while WAIT_BUYER_PAY", waits >= 1, "query answers %v", results(queries))
	c.check("last query TRADE_SUCCESS", len(queries) > 0 && strings.Contains(queries[len(queries)-1].Result, "TRADE_SUCCESS"),
		"query answers %v", results(queries))
	c.check("no cancel", len(c.calls(ptid, "cancel")) == 0, "%d cancel calls", len(c.calls(ptid, "cancel")))
	return nil
}

func results(xs []Exchange) []string {
	var out []string
	for _, x := range xs {
		r := x.Result
		if x.Error != "" {
			r = "✕ " + x.Error
		}
		out = append(out, r)
	}
	return out
}

func spot004(ctx context.Context, c *caseRun) error {
	ref := c.ref()
	res, evs, err := c.saleEvents(ctx, ref, 1500, c.code(11))
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusCancelled, "PAY_DEADLINE"); err != nil {
		return err
	}
	return c.checkExpired(ctx, ref, evs)
}

func (c *caseRun) checkExpired(ctx context.Context, ref string, evs []string) error {
	ptid := c.ptid(ctx, ref)
	c.check("ECR told of the cancel", has(evs, ecrproto.EventCancelling), "events %s", strings.Join(evs, ","))
	cancels := c.calls(ptid, "cancel")
	c.check("cancel confirmed", len(cancels) > 0 && strings.Contains(cancels[len(cancels)-1].Result, "SUCCESS"),
		"cancel answers %v", results(cancels))
	c.check("polled before the deadline", len(c.calls(ptid, "query")) > 0, "%d queries", len(c.calls(ptid, "query")))
	c.check("one pay", len(c.calls(ptid, "spot.pay")) == 1, "%d pays", len(c.calls(ptid, "spot.pay")))
	return nil
}

func spot005(ctx context.Context, c *caseRun) error {
	// query SYSTEM_ERROR (33): retried, then approved
	ref := c.ref()
	res, _, err := c.saleEvents(ctx, ref, 1100, c.code(33))
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
		return err
	}
	qs := c.calls(c.ptid(ctx, ref), "query")
	c.check("query SYSTEM_ERROR retried", countResult(qs, "SYSTEM_ERROR") >= 3 && len(qs) > 0 &&
		strings.Contains(qs[len(qs)-1].Result, "TRADE_SUCCESS"), "query answers %v", results(qs))
	// cancel SYSTEM_ERROR (34): retried until confirmed
	ref2 := c.ref()
	res, _, err = c.saleEvents(ctx, ref2, 1200, c.code(34))
	if err != nil {
		return err
	}
	if res.Status == ecrproto.StatusCancelled && res.Reason == "CANCEL_QUEUED" {
		res, err = c.statusUntilFinal(ctx, ref2, time.Minute)
		if err != nil {
			return err
		}
	}
	if err := c.expectResult(res, ecrproto.StatusCancelled, ""); err != nil {
		return err
	}
	cs := c.calls(c.ptid(ctx, ref2), "cancel")
	c.check("cancel SYSTEM_ERROR retried", countResult(cs, "SYSTEM_ERROR") >= 3 && len(cs) > 0 &&
		!strings.Contains(cs[len(cs)-1].Result, "SYSTEM_ERROR"), "cancel answers %v", results(cs))
	// pay SYSTEM_ERROR (30): never re-sent under a new id; cancelled
	ref3 := c.ref()
	res, _, err = c.saleEvents(ctx, ref3, 1300, c.code(30))
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusCancelled, ""); err != nil {
		return err
	}
	ptid := c.ptid(ctx, ref3)
	var other int
	for _, ex := range c.e.rec.All() {
		if shortService(ex.Service) == "spot.pay" && ex.At.After(c.res.Started) && ex.Params["partner_trans_id"] != ptid &&
			!c.ownPTID(ctx, ex.Params["partner_trans_id"]) {
			other++
		}
	}
	c.check("no new payment id", other == 0, "%d pays under other ids", other)
	return nil
}

// ownPTID reports whether id belongs to one of the case's sales.
func (c *caseRun) ownPTID(ctx context.Context, id string) bool {
	_, raw := c.journalOps(ctx)
	for _, op := range raw {
		if op.PartnerTransID == id {
			return true
		}
	}
	return false
}

func countResult(xs []Exchange, s string) int {
	n := 0
	for _, x := range xs {
		if strings.Contains(x.Result, s) {
			n++
		}
	}
	return n
}

func spot006(ctx context.Context, c *caseRun) error {
	for _, sc := range []int{31, 35} {
		ref := c.ref()
		res, _, err := c.saleEvents(ctx, ref, 1400, c.code(sc))
		if err != nil {
			return err
		}
		if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
			return err
		}
		ptid := c.ptid(ctx, ref)
		pays, qs := c.calls(ptid, "spot.pay"), c.calls(ptid, "query")
		name := map[int]string{31: "lost answer", 35: "late answer"}[sc]
		c.check(name+": no answer reached the daemon", len(pays) == 1 && pays[0].Error != "", "pay answers %v", results(pays))
		c.check(name+": resolved by query", len(qs) > 0 && strings.Contains(qs[len(qs)-1].Result, "TRADE_SUCCESS"),
			"query answers %v", results(qs))
	}
	return nil
}

func declined(sc int, reason string) func(context.Context, *caseRun) error {
	return func(ctx context.Context, c *caseRun) error {
		ref := c.ref()
		res, _, err := c.saleEvents(ctx, ref, 900, c.code(sc))
		if err != nil {
			return err
		}
		if err := c.expectResult(res, ecrproto.StatusDeclined, reason); err != nil {
			return err
		}
		ptid := c.ptid(ctx, ref)
		c.check("no cancel needed", len(c.calls(ptid, "cancel")) == 0, "%d cancels", len(c.calls(ptid, "cancel")))
		return nil
	}
}

func invalidCode(ctx context.Context, c *caseRun) error {
	before := len(c.e.rec.All())
	res, err := c.do(ctx, sale(c.lane, c.ref(), 500, "HKD", "1234567890"))
	if err != nil {
		return err
	}
	c.check("refused as E_FIELD barcode", res.Type == ecrproto.TypeError && res.Code == ecrproto.CodeField && res.Field == "barcode",
		"got %s %s", answerLabel(res), res.Message)
	c.check("nothing sent to the gateway", len(c.e.rec.All()) == before, "%d calls", len(c.e.rec.All())-before)
	return declined(21, "BUYER_NOT_EXIST")(ctx, c)
}
