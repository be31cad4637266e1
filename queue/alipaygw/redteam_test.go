package alipaygw_test

// Red-team tests of the seam between the Alipay client and the engine: every
// answer that does not prove what happened must reach the engine as Unknown
// (invariant 2), through the real client, the adapter and a real journal.

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/queue/alipaygw"
)

// rtAnswer is one scripted gateway answer.
type rtAnswer struct {
	isSuccess string            // "T" or "F"
	gwError   string            // <error> of an is_success=F answer
	fields    map[string]string // response/alipay
	sign      string            // "" signed correctly, "bad", "none"
	raw       string            // a raw body instead of an envelope
	status    int               // HTTP status (0: 200)
	drop      bool              // close the connection without an answer
	redirect  string            // answer 302 to this location
}

// rtGateway is a scripted MD5 gateway: answer decides from the service and
// the request parameters; every request is counted per service and id.
type rtGateway struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(service string, p url.Values) rtAnswer
	mu     sync.Mutex
	calls  map[string]int // "service id" → count
}

func newRTGateway(t *testing.T, answer func(string, url.Values) rtAnswer) *rtGateway {
	g := &rtGateway{t: t, answer: answer, calls: map[string]int{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *rtGateway) count(service, id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[service+" "+id]
}

func (g *rtGateway) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	svc := r.PostForm.Get("service")
	id := r.PostForm.Get("partner_trans_id") + r.PostForm.Get("out_trade_no")
	g.mu.Lock()
	g.calls[svc+" "+id]++
	g.mu.Unlock()
	a := g.answer(svc, r.PostForm)
	switch {
	case a.drop:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
			}
		}
		return
	case a.redirect != "":
		http.Redirect(w, r, a.redirect, http.StatusFound)
		return
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	body := a.raw
	if body == "" {
		body = envelope(a)
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(body))
}

// envelope renders an answer as the gateway does (reference §5), signed
// over the response/alipay children (§4.4) unless told otherwise.
func envelope(a rtAnswer) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><alipay><is_success>` + a.isSuccess + `</is_success>`)
	if a.isSuccess == "F" {
		if a.gwError != "" {
			b.WriteString("<error>" + a.gwError + "</error>")
		}
		b.WriteString("</alipay>")
		return b.String()
	}
	keys := make([]string, 0, len(a.fields))
	for k := range a.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("<response><alipay>")
	for _, k := range keys {
		b.WriteString("<" + k + ">" + html.EscapeString(a.fields[k]) + "</" + k + ">")
	}
	b.WriteString("</alipay></response>")
	sig, _ := alipay.NewMD5Signer(testMD5Key).Sign([]byte(alipay.PreSignString(a.fields)))
	switch a.sign {
	case "bad":
		sig = strings.Repeat("0", len(sig))
	case "none":
		return b.String() + "</alipay>"
	}
	return b.String() + "<sign>" + sig + "</sign><sign_type>MD5</sign_type></alipay>"
}

func signedT(f map[string]string) rtAnswer { return rtAnswer{isSuccess: "T", fields: f} }

// paySuccess is a signed SUCCESS pay/query answer for the trade id of amount
// (HKD cents).
func tradeFields(id string, amount int64, status string) map[string]string {
	return map[string]string{"result_code": "SUCCESS", "partner_trans_id": id, "out_trade_no": id,
		"alipay_trans_id": "2025" + id, "alipay_trans_status": status, "currency": "HKD",
		"trans_amount": fmt.Sprintf("%d.%02d", amount/100, amount%100), "alipay_pay_time": "20250304100000"}
}

// ambiguousPay lists pay answers that prove nothing: the engine must query.
func ambiguousPay(id string, amount int64) []struct {
	name string
	a    rtAnswer
} {
	ok := tradeFields(id, amount, "TRADE_SUCCESS")
	with := func(k, v string) map[string]string {
		f := map[string]string{}
		for a, b := range ok {
			f[a] = b
		}
		f[k] = v
		return f
	}
	return []struct {
		name string
		a    rtAnswer
	}{
		{"F SYSTEM_ERROR", rtAnswer{isSuccess: "F", gwError: "SYSTEM_ERROR"}},
		{"F unlisted code", rtAnswer{isSuccess: "F", gwError: "TRADE_NOT_EXIST"}},
		{"F without code", rtAnswer{isSuccess: "F"}},
		{"F ILLEGAL_SIGN (unsigned)", rtAnswer{isSuccess: "F", gwError: "ILLEGAL_SIGN"}},
		{"F ILLEGAL_PARTNER (unsigned)", rtAnswer{isSuccess: "F", gwError: "ILLEGAL_PARTNER"}},
		{"SUCCESS badly signed", rtAnswer{isSuccess: "T", fields: ok, sign: "bad"}},
		{"SUCCESS unsigned", rtAnswer{isSuccess: "T", fields: ok, sign: "none"}},
		{"SUCCESS for another trade", signedT(with("partner_trans_id", id+"X"))},
		{"SUCCESS for another amount", signedT(with("trans_amount", "0.01"))},
		{"SUCCESS in another currency", signedT(with("currency", "USD"))},
		{"SUCCESS still waiting", signedT(with("alipay_trans_status", "WAIT_BUYER_PAY"))},
		{"SUCCESS with SYSTEM_ERROR", signedT(with("error", "SYSTEM_ERROR"))},
		{"UNKNOW", signedT(map[string]string{"result_code": "UNKNOW", "partner_trans_id": id})},
		{"UNKNOWN", signedT(map[string]string{"result_code": "UNKNOWN", "partner_trans_id": id})},
		{"no result code", signedT(map[string]string{"partner_trans_id": id})},
		{"FAILED unlisted", signedT(map[string]string{"result_code": "FAILED", "error": "NEW_CODE"})},
		{"FAILED no code", signedT(map[string]string{"result_code": "FAILED"})},
		{"FAILED buyer not match", signedT(map[string]string{"result_code": "FAILED", "error": "TRADE_BUYER_NOT_MATCH"})},
		{"FAILED has success", signedT(map[string]string{"result_code": "FAILED", "error": "TRADE_HAS_SUCCESS"})},
		{"FAILED SYSTEM_ERROR", signedT(map[string]string{"result_code": "FAILED", "error": "SYSTEM_ERROR"})},
		{"FAILED unsigned decline", rtAnswer{isSuccess: "T", sign: "bad",
			fields: map[string]string{"result_code": "FAILED", "error": "BUYER_BALANCE_NOT_ENOUGH"}}},
		{"HTTP 502", rtAnswer{status: http.StatusBadGateway, raw: "bad gateway"}},
		{"HTML page", rtAnswer{raw: "<html><body>portal</body></html>"}},
		{"truncated", rtAnswer{raw: `<?xml version="1.0"?><alipay><is_success>T</is_success><response><alipay><result_code>SUCC`}},
		{"connection dropped", rtAnswer{drop: true}},
		{"redirect", rtAnswer{redirect: "/ok"}},
	}
}

// caseGateway is the adapter over a red-team gateway that gives the
// answer of the case set last (case 0 at first).
func caseGateway(t *testing.T, answer func(i int) rtAnswer) (gw *alipaygw.Gateway, set func(i int)) {
	t.Helper()
	var mu sync.Mutex
	cur := 0
	g := newRTGateway(t, func(string, url.Values) rtAnswer {
		mu.Lock()
		defer mu.Unlock()
		return answer(cur)
	})
	return alipaygw.New(newClient(t, g.srv.URL)), func(i int) {
		mu.Lock()
		defer mu.Unlock()
		cur = i
	}
}

// Every ambiguous pay answer reaches the engine as Unknown, through the
// real client and the adapter.
func TestRedTeamAmbiguousPayIsUnknownAtTheSeam(t *testing.T) {
	const id, amount = "TBT120250304020000ABCDEFGH", 1250
	cases := ambiguousPay(id, amount)
	gw, set := caseGateway(t, func(i int) rtAnswer { return cases[i].a })
	for i, tc := range cases {
		set(i)
		res, err := gw.Pay(context.Background(), queue.PayRequest{PartnerTransID: id,
			BuyerCode: "281234567890123400", Amount: amount, Currency: "HKD", Subject: "Ticket"})
		if res.Outcome != queue.OutcomeUnknown {
			t.Errorf("%s: pay outcome %v (code %q), want unknown", tc.name, res.Outcome, res.Code)
		}
		if strings.Contains(fmt.Sprint(err), "281234567890123400") {
			t.Errorf("%s: error text holds the buyer code: %v", tc.name, err)
		}
	}
}

// The query side: only a verified status (or a verified not-found) is a
// trade status; a forged, unsigned or foreign "TRADE_SUCCESS"/"TRADE_CLOSED"
// is none, and the engine keeps asking.
func TestRedTeamQueryStatusNeedsAVerifiedAnswer(t *testing.T) {
	const id = "TBT120250304020000ABCDEFGH"
	other := tradeFields(id+"X", 1250, "TRADE_SUCCESS")
	cases := []struct {
		name string
		a    rtAnswer
		want queue.TradeStatus
	}{
		{"verified success", signedT(tradeFields(id, 1250, "TRADE_SUCCESS")), queue.TradeSuccess},
		{"verified closed", signedT(tradeFields(id, 1250, "TRADE_CLOSED")), queue.TradeClosed},
		{"verified not found", signedT(map[string]string{"result_code": "FAIL", "error": "TRADE_NOT_EXIST"}), queue.TradeNotFound},
		{"success unsigned", rtAnswer{isSuccess: "T", fields: tradeFields(id, 1250, "TRADE_SUCCESS"), sign: "none"}, queue.TradeUnknown},
		{"closed badly signed", rtAnswer{isSuccess: "T", fields: tradeFields(id, 1250, "TRADE_CLOSED"), sign: "bad"}, queue.TradeUnknown},
		{"not found badly signed", rtAnswer{isSuccess: "T", sign: "bad",
			fields: map[string]string{"result_code": "FAIL", "error": "TRADE_NOT_EXIST"}}, queue.TradeUnknown},
		{"another trade's answer", signedT(other), queue.TradeUnknown},
		{"unknown status word", signedT(tradeFields(id, 1250, "TRADE_CANCELLED")), queue.TradeUnknown},
		{"FAIL SYSTEM_ERROR", signedT(map[string]string{"result_code": "FAIL", "error": "SYSTEM_ERROR"}), queue.TradeUnknown},
		{"FAIL unlisted", signedT(map[string]string{"result_code": "FAIL", "error": "NEW_CODE"}), queue.TradeUnknown},
		{"F SYSTEM_ERROR", rtAnswer{isSuccess: "F", gwError: "SYSTEM_ERROR"}, queue.TradeUnknown},
		{"F TRADE_NOT_EXIST (unsigned)", rtAnswer{isSuccess: "F", gwError: "TRADE_NOT_EXIST"}, queue.TradeUnknown},
		{"dropped", rtAnswer{drop: true}, queue.TradeUnknown},
	}
	gw, set := caseGateway(t, func(i int) rtAnswer { return cases[i].a })
	for i, tc := range cases {
		set(i)
		res, err := gw.Query(context.Background(), id)
		if res.Status != tc.want {
			t.Errorf("%s: status %v (outcome %v, err %v), want %v", tc.name, res.Status, res.Outcome, err, tc.want)
		}
		if tc.want == queue.TradeUnknown && res.Outcome == queue.OutcomeSuccess && err == nil &&
			res.Status != queue.TradeUnknown {
			t.Errorf("%s: a status without a verified answer", tc.name)
		}
	}
}

// Cancel and refund: "try again" answers are never final, either way.
func TestRedTeamAmbiguousCancelAndRefundAreUnknown(t *testing.T) {
	const id = "TBT120250304020000ABCDEFGH"
	cancels := []rtAnswer{
		{isSuccess: "F", gwError: "SYSTEM_ERROR"},
		{isSuccess: "F", gwError: "ILLEGAL_SIGN"},
		signedT(map[string]string{"result_code": "FAIL", "error": "SYSTEM_ERROR", "retry_flag": "N", "out_trade_no": id}),
		signedT(map[string]string{"result_code": "FAIL", "error": "NEW_CODE", "retry_flag": "Y", "out_trade_no": id}),
		signedT(map[string]string{"result_code": "UNKNOWN", "out_trade_no": id}),
		{isSuccess: "T", sign: "bad", fields: map[string]string{"result_code": "SUCCESS", "out_trade_no": id}},
		{isSuccess: "T", sign: "bad", fields: map[string]string{"result_code": "FAIL", "retry_flag": "N", "out_trade_no": id}},
		signedT(map[string]string{"result_code": "SUCCESS", "out_trade_no": id + "X"}),
		{drop: true},
	}
	refunds := []rtAnswer{
		{isSuccess: "F", gwError: "SYSTEM_ERROR"},
		{isSuccess: "F", gwError: "ILLEGAL_SIGN"},
		{isSuccess: "T", sign: "bad", fields: map[string]string{"result_code": "FAILED", "error": "RETURN_AMOUNT_EXCEED"}},
		signedT(map[string]string{"result_code": "UNKNOW", "partner_trans_id": id}),
		signedT(map[string]string{"result_code": "FAILED", "error": "SYSTEM_ERROR"}),
		signedT(map[string]string{"result_code": "FAILED", "error": "NEW_CODE"}),
		{isSuccess: "T", sign: "none", fields: map[string]string{"result_code": "SUCCESS"}},
		signedT(map[string]string{"result_code": "SUCCESS", "partner_refund_id": "TROTHER", "refund_amount": "5.00", "currency": "HKD"}),
		signedT(map[string]string{"result_code": "SUCCESS", "partner_refund_id": "TR1", "refund_amount": "9.99", "currency": "HKD"}),
		{status: http.StatusServiceUnavailable, raw: "busy"},
	}
	var mu sync.Mutex
	var cur rtAnswer
	g := newRTGateway(t, func(string, url.Values) rtAnswer {
		mu.Lock()
		defer mu.Unlock()
		return cur
	})
	gw := alipaygw.New(newClient(t, g.srv.URL))
	for i, a := range cancels {
		mu.Lock()
		cur = a
		mu.Unlock()
		res, err := gw.Cancel(context.Background(), id)
		if res.Outcome != queue.OutcomeUnknown {
			t.Errorf("cancel answer %d: outcome %v (%q, retry %q, err %v), want unknown", i, res.Outcome,
				res.Code, res.RetryFlag, err)
		}
	}
	for i, a := range refunds {
		mu.Lock()
		cur = a
		mu.Unlock()
		res, err := gw.Refund(context.Background(), queue.RefundRequest{PartnerTransID: id,
			PartnerRefundID: "TR1", Amount: 500, Currency: "HKD"})
		if res.Outcome != queue.OutcomeUnknown {
			t.Errorf("refund answer %d: outcome %v (%q, err %v), want unknown", i, res.Outcome, res.Code, err)
		}
	}
}

// End to end through the engine and a real journal: whatever ambiguous
// answer the pay gets, the sale is resolved by query (here: paid), never
// declined, and the pay is sent exactly once.
func TestRedTeamEngineResolvesEveryAmbiguousPayByQuery(t *testing.T) {
	const amount = 1250
	names := []string{}
	for _, c := range ambiguousPay("x", amount) {
		names = append(names, c.name)
	}
	g := newRTGateway(t, func(svc string, p url.Values) rtAnswer {
		id := p.Get("partner_trans_id")
		switch svc {
		case alipay.ServicePay:
			code := p.Get("buyer_identity_code")
			var n int
			fmt.Sscanf(code[len(code)-2:], "%d", &n)
			return ambiguousPay(id, amount)[n].a
		case alipay.ServiceQuery:
			return signedT(tradeFields(id, amount, "TRADE_SUCCESS"))
		}
		return rtAnswer{isSuccess: "F", gwError: "ILLEGAL_SERVICE"}
	})
	path := filepath.Join(t.TempDir(), "journal.db")
	cfg := fastEngine()
	cfg.PayDeadline = 20 * time.Second // queries decide here, never the cancel
	c, err := alipay.NewClient(clientConfig(g.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	e, err := queue.Open(context.Background(), path, alipaygw.New(c), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, halt := runScheduler(e)
	for i := range names {
		if _, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: fmt.Sprint("s", i), Amount: amount,
			Currency: "HKD", Subject: "Ticket", Terminal: "T1",
			BuyerCode: fmt.Sprintf("2812345678901234%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFinal(t, e, 30*time.Second)
	_ = halt()
	for i, name := range names {
		op, err := e.GetByRef(context.Background(), "1", queue.KindSale, fmt.Sprint("s", i))
		if err != nil {
			t.Fatal(err)
		}
		if op.State != queue.StatePaid {
			t.Errorf("%s: sale %s (%q), want paid (resolved by query)", name, op.State, op.Reason)
		}
		if n := g.count(alipay.ServicePay, op.PartnerTransID); n != 1 {
			t.Errorf("%s: %d pay requests", name, n)
		}
		if g.count(alipay.ServiceQuery, op.PartnerTransID) == 0 {
			t.Errorf("%s: never queried", name)
		}
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
