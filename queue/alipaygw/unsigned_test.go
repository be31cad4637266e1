package alipaygw_test

// Unsigned or unverifiable refusals on the path (issue 10, item 6): a proxy
// between the till and the gateway passes a request on to the sandbox (so
// Alipay acts) and answers the till with an is_success=F ILLEGAL_SIGN, or
// with a decline whose signature does not verify. Through the real client,
// the adapter and a real journal, such a sale is queried — never declined
// on the forged answer — and ends paid; a refund so answered is retried
// with the same partner_refund_id, never REFUND_DECLINED; a pay the gateway
// really refused is cancelled at the deadline.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/queue"
)

// illegalSign is the gateway-level refusal, as Alipay sends it: unsigned.
const illegalSign = `<?xml version="1.0" encoding="utf-8"?><alipay><is_success>F</is_success><error>ILLEGAL_SIGN</error></alipay>`

// tamper says what the proxy does with one request.
type tamper struct {
	drop    bool   // do not pass the request on to the gateway
	replace string // answer this body instead of the gateway's ("" = the gateway's)
}

// tamperProxy is an HTTP server on loopback in front of the sandbox at
// base: each request goes on to the sandbox unless rule drops it, and the
// answer is the sandbox's unless rule replaces it. rule sees the service
// and how many requests of that service came before (0 for the first).
type tamperProxy struct {
	srv   *httptest.Server
	base  string
	rule  func(service string, n int) tamper
	mu    sync.Mutex
	calls map[string]int // per service
}

func newTamperProxy(t *testing.T, base string, rule func(string, int) tamper) *tamperProxy {
	p := &tamperProxy{base: base, rule: rule, calls: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// count is how many requests of service reached the proxy.
func (p *tamperProxy) count(service string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[service]
}

func (p *tamperProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form, _ := url.ParseQuery(string(body))
	svc := form.Get("service")
	p.mu.Lock()
	n := p.calls[svc]
	p.calls[svc]++
	p.mu.Unlock()
	tm := p.rule(svc, n)
	answer := []byte(tm.replace)
	if !tm.drop {
		resp, err := http.Post(p.base+r.URL.RequestURI(), r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if tm.replace == "" {
			answer = got
		}
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	_, _ = w.Write(answer)
}

// runEngine opens a journal in a temp dir against the gateway at url and
// runs it until the test ends.
func runEngine(t *testing.T, gatewayBase string, cfg queue.Config) *queue.Engine {
	t.Helper()
	e := openEngine(t, filepath.Join(t.TempDir(), "journal.db"), gatewayBase, cfg)
	_, halt := runScheduler(e)
	t.Cleanup(func() {
		_ = halt()
		_ = e.Close(context.Background())
	})
	return e
}

// eventNames lists the names of an operation's events, in order.
func eventNames(t *testing.T, e *queue.Engine, id string) ([]queue.EventName, string) {
	t.Helper()
	evs, err := e.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var names []queue.EventName
	var details strings.Builder
	for _, ev := range evs {
		names = append(names, ev.Name)
		details.WriteString(ev.Detail + "\n")
	}
	return names, details.String()
}

// saleToFinal submits an HKD 12.50 sale paid with code, waits until every
// operation is final (bounded by limit) and returns the sale as the
// journal then has it.
func saleToFinal(t *testing.T, e *queue.Engine, code string, limit time.Duration) queue.Operation {
	t.Helper()
	submitted, err := e.SubmitSale(context.Background(), queue.Sale{Lane: "1", Ref: "s1", Amount: 1250,
		Currency: "HKD", Subject: "Ticket", Terminal: "T1", BuyerCode: code})
	if err != nil {
		t.Fatal(err)
	}
	waitFinal(t, e, limit)
	got, err := e.Get(context.Background(), submitted.Op.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func hasEvent(names []queue.EventName, n queue.EventName) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// forgedDecline is a FAILED BUYER_BALANCE_NOT_ENOUGH pay answer whose
// signature does not verify.
func forgedDecline() string {
	return envelope(rtAnswer{isSuccess: "T", sign: "bad", fields: map[string]string{"result_code": "FAILED",
		"error": "BUYER_BALANCE_NOT_ENOUGH"}})
}

// A pay that reached Alipay and was paid, answered on the path with an
// unsigned ILLEGAL_SIGN or a decline whose signature fails, goes to
// querying and ends PAID by the signed query; the pay is sent once.
// (Before the fix, the ILLEGAL_SIGN case ended DECLINED at once.)
func TestForgedPayRefusalIsResolvedByQuery(t *testing.T) {
	sigRE := regexp.MustCompile(`<sign>[^<]*</sign>`)
	cases := []struct {
		name   string
		answer func() string
	}{
		{"unsigned ILLEGAL_SIGN", func() string { return illegalSign }},
		{"unsigned INVALID_PARAMETER", func() string {
			return `<alipay><is_success>F</is_success><error>INVALID_PARAMETER</error></alipay>`
		}},
		{"decline with a wrong signature", forgedDecline},
		{"decline signed with another key", func() string {
			f := map[string]string{"result_code": "FAILED", "error": "BUYER_BALANCE_NOT_ENOUGH"}
			sig, _ := alipay.NewMD5Signer("20000000000000000000000000000000").Sign([]byte(alipay.PreSignString(f)))
			return sigRE.ReplaceAllString(envelope(rtAnswer{isSuccess: "T", fields: f}), "<sign>"+sig+"</sign>")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, base := startSandbox(t, "")
			p := newTamperProxy(t, base, func(svc string, _ int) tamper {
				if svc != alipay.ServicePay {
					return tamper{}
				}
				return tamper{replace: tc.answer()}
			})
			cfg := fastEngine()
			cfg.PayDeadline = 10 * time.Second // the query decides, not the cancel
			e := runEngine(t, p.srv.URL, cfg)
			got := saleToFinal(t, e, "281234567890123400", 15*time.Second)
			names, _ := eventNames(t, e, got.ID)
			if got.State != queue.StatePaid {
				t.Fatalf("sale %s (reason %q, events %v), want paid: the trade is paid at the gateway",
					got.State, got.Reason, names)
			}
			if !hasEvent(names, queue.EventUnknown) || hasEvent(names, queue.EventDeclined) {
				t.Errorf("events %v: want UNKNOWN (querying) and no DECLINED", names)
			}
			if n := p.count(alipay.ServicePay); n != 1 {
				t.Errorf("%d pay requests, want 1", n)
			}
			if p.count(alipay.ServiceQuery) == 0 {
				t.Error("never queried")
			}
			tr := ledger(t, base)[got.PartnerTransID]
			if tr.Status != "TRADE_SUCCESS" || tr.Calls.Pay != 1 {
				t.Errorf("trade at the gateway: %+v", tr)
			}
		})
	}
}

// A pay the gateway really refused (never processed: ILLEGAL_SIGN, as with
// a wrong key) is indistinguishable from a forged refusal, so it too is
// Unknown: the signed query finds no trade, and at the pay deadline the
// cancel closes it — CANCELLED, not DECLINED, and never a second pay. The
// journal says what to check. (Before the fix: DECLINED at once.)
func TestRefusedPayIsCancelledAtTheDeadline(t *testing.T) {
	_, base := startSandbox(t, "")
	p := newTamperProxy(t, base, func(svc string, _ int) tamper {
		if svc == alipay.ServicePay {
			return tamper{drop: true, replace: illegalSign}
		}
		return tamper{}
	})
	e := runEngine(t, p.srv.URL, fastEngine()) // pay deadline 2 s
	got := saleToFinal(t, e, "281234567890123400", 15*time.Second)
	names, details := eventNames(t, e, got.ID)
	if got.State != queue.StateCancelled {
		t.Fatalf("sale %s (reason %q, events %v), want cancelled at the deadline", got.State, got.Reason, names)
	}
	for _, n := range []queue.EventName{queue.EventUnknown, queue.EventCancelling, queue.EventCancelled} {
		if !hasEvent(names, n) {
			t.Errorf("events %v: no %s", names, n)
		}
	}
	if hasEvent(names, queue.EventDeclined) {
		t.Errorf("events %v: DECLINED on an unsigned answer", names)
	}
	if !strings.Contains(details, "gateway refused the signature: check keys") {
		t.Errorf("the journal does not tell to check the keys:\n%s", details)
	}
	if n := p.count(alipay.ServicePay); n != 1 {
		t.Errorf("%d pay requests, want 1", n)
	}
	if p.count(alipay.ServiceQuery) == 0 || p.count(alipay.ServiceCancel) == 0 {
		t.Errorf("queries %d, cancels %d: want both", p.count(alipay.ServiceQuery), p.count(alipay.ServiceCancel))
	}
	if tr, ok := ledger(t, base)[got.PartnerTransID]; ok && tr.Status == "TRADE_SUCCESS" {
		t.Errorf("trade at the gateway: %+v", tr)
	}
}

// A correctly signed conclusive decline stays a decline: DECLINED from the
// pay's answer, with its code, and no query or cancel.
func TestSignedDeclineStaysDeclined(t *testing.T) {
	_, base := startSandbox(t, "")
	p := newTamperProxy(t, base, func(string, int) tamper { return tamper{} })
	e := runEngine(t, p.srv.URL, fastEngine())
	got := saleToFinal(t, e, "281234567890123420", 10*time.Second) // scenario 20
	if got.State != queue.StateDeclined || got.LastCode != "BUYER_BALANCE_NOT_ENOUGH" {
		t.Fatalf("sale %s code %q (reason %q), want declined BUYER_BALANCE_NOT_ENOUGH", got.State, got.LastCode, got.Reason)
	}
	if q, c := p.count(alipay.ServiceQuery), p.count(alipay.ServiceCancel); q != 0 || c != 0 {
		t.Errorf("%d queries, %d cancels after a verified decline", q, c)
	}
}

// A refund that reached Alipay, answered on the path with an unsigned
// ILLEGAL_SIGN, is retried with the same partner_refund_id and ends
// REFUNDED — not REFUND_DECLINED (which would have the cashier pay the
// customer back a second time). The gateway refunds once.
func TestForgedRefundRefusalIsRetried(t *testing.T) {
	_, base := startSandbox(t, "")
	p := newTamperProxy(t, base, func(svc string, n int) tamper {
		if svc == alipay.ServiceRefund && n == 0 {
			return tamper{replace: illegalSign} // passed on, answer forged
		}
		return tamper{}
	})
	e := runEngine(t, p.srv.URL, fastEngine())
	ctx := context.Background()
	submitted, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: "s1", Amount: 1000, Currency: "HKD",
		Subject: "Ticket", Terminal: "T1", BuyerCode: "281234567890123400"})
	sale := submitted.Op
	if err != nil {
		t.Fatal(err)
	}
	waitFinal(t, e, 10*time.Second)
	ref, err := e.SubmitRefund(ctx, queue.Refund{Lane: "1", RefundRef: "r1", SaleID: sale.ID, Amount: 400,
		Currency: "HKD", Reason: "visitor left early"})
	if err != nil {
		t.Fatal(err)
	}
	waitFinal(t, e, 10*time.Second)
	got, err := e.Get(ctx, ref.ID)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := eventNames(t, e, ref.ID)
	if got.State != queue.StateRefunded {
		t.Fatalf("refund %s (reason %q, events %v), want refunded", got.State, got.Reason, names)
	}
	if n := p.count(alipay.ServiceRefund); n < 2 {
		t.Errorf("%d refund requests: the forged refusal was not retried", n)
	}
	tr := ledger(t, base)[got.PartnerTransID]
	if tr.Refunded != 400 || len(tr.Refunds) != 1 {
		t.Errorf("trade at the gateway: refunded %d in %d refunds, want 400 in 1", tr.Refunded, len(tr.Refunds))
	}
}
