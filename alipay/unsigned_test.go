package alipay

import (
	"errors"
	"strings"
	"testing"
)

// callOutcome is one call's classification and error.
type callOutcome struct {
	out Outcome
	err error
}

// callAll sends one call of each service to the gateway behind c and
// returns each call's outcome and error, by service. A query must not
// report a trade status from any of these answers.
func callAll(t *testing.T, c *Client) map[string]callOutcome {
	t.Helper()
	res := map[string]callOutcome{}
	p, err := c.Pay(ctxT(t), v7Request())
	res[ServicePay] = callOutcome{p.Outcome, err}
	q, err := c.Query(ctxT(t), "T20240101000001")
	res[ServiceQuery] = callOutcome{q.Outcome, err}
	if q.Status != StatusUnknown {
		t.Errorf("query status %v from an unsigned answer", q.Status)
	}
	cn, err := c.Cancel(ctxT(t), "T20240101000001")
	res[ServiceCancel] = callOutcome{cn.Outcome, err}
	r, err := c.Refund(ctxT(t), RefundRequest{PartnerTransID: "T20240101000001", PartnerRefundID: "R1",
		Amount: 100, Currency: "USD"})
	res[ServiceRefund] = callOutcome{r.Outcome, err}
	return res
}

// An is_success=F answer is unsigned (reference §5.2): whatever its code,
// and for every service, it is Unknown, never Declined. A forged
// ILLEGAL_SIGN on the path must not turn a pay that reached Alipay into a
// DECLINED sale, nor a refund into REFUND_DECLINED, nor stop a cancel.
func TestUnsignedGatewayRefusalIsUnknownForEveryService(t *testing.T) {
	t.Parallel()
	codes := []string{"ILLEGAL_SIGN", "ILLEGAL_PARTNER", "ILLEGAL_SIGN_TYPE", "ILLEGAL_ARGUMENT",
		"INVALID_PARAMETER", "ILLEGAL_SERVICE", "ILLEGAL_EXTERFACE", "ILLEGAL_PARTNER_EXTERFACE",
		"HAS_NO_PRIVILEGE", "ILLEGAL_CHARSET", "ILLEGAL_ENCODING", "TRADE_NOT_EXIST",
		"BUYER_BALANCE_NOT_ENOUGH", "TRADE_CANCEL_TIME_OUT", "RETURN_AMOUNT_EXCEED", ""}
	for _, code := range codes {
		t.Run("F "+code, func(t *testing.T) {
			g := md5Gateway(t, func(map[string]string) reply { return reply{failEnv: true, gwError: code} })
			for svc, r := range callAll(t, newTestClient(t, md5Config(g))) {
				if r.out != OutcomeUnknown {
					t.Errorf("%s: outcome %v, want unknown", svc, r.out)
				}
				if !isGateway(code)(r.err) {
					t.Errorf("%s: err %v, want *GatewayError{%q}", svc, r.err, code)
				}
			}
		})
	}
}

// A genuine ILLEGAL_SIGN (a wrong key on the till) cannot be told from a
// forged one, so it is Unknown too; its error text tells the technician
// what to do, and the code stays machine-readable.
func TestIllegalSignNamesTheKeys(t *testing.T) {
	t.Parallel()
	g := md5Gateway(t, func(map[string]string) reply { return reply{failEnv: true, gwError: "ILLEGAL_SIGN"} })
	c := newTestClient(t, md5Config(g))
	res, err := c.Pay(ctxT(t), v7Request())
	if res.Outcome != OutcomeUnknown || res.Error != "ILLEGAL_SIGN" {
		t.Fatalf("outcome %v code %q", res.Outcome, res.Error)
	}
	if err == nil || !strings.Contains(err.Error(), "gateway refused the signature: check keys") {
		t.Fatalf("error text %v does not tell to check the keys", err)
	}
	var ge *GatewayError
	if !errors.As(err, &ge) || ge.Code != "ILLEGAL_SIGN" {
		t.Fatalf("err %v is not *GatewayError{ILLEGAL_SIGN}", err)
	}
	for _, leak := range []string{testMD5Key, "281234567890123456"} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("error text holds a secret: %v", err)
		}
	}
}

// declines is one conclusive business decline per service, as signed
// response/alipay fields.
func declines() map[string]map[string]string {
	return map[string]map[string]string{
		ServicePay:    {"result_code": "FAILED", "error": "BUYER_BALANCE_NOT_ENOUGH"},
		ServiceQuery:  {"result_code": "FAIL", "error": "TRADE_NOT_EXIST"},
		ServiceCancel: {"result_code": "FAIL", "error": "TRADE_CANCEL_TIME_OUT", "retry_flag": "N"},
		ServiceRefund: {"result_code": "FAILED", "error": "RETURN_AMOUNT_EXCEED"},
	}
}

// A decline whose signature does not verify (corrupted, missing, or made
// with another key) proves nothing: Unknown. The same decline correctly
// signed is Declined.
func TestDeclineNeedsAVerifiedSignature(t *testing.T) {
	t.Parallel()
	answer := func(mod func(*reply)) func(map[string]string) reply {
		return func(p map[string]string) reply {
			r := reply{fields: declines()[p["service"]]}
			mod(&r)
			return r
		}
	}
	for _, tc := range []struct {
		name string
		g    func(t *testing.T) *fakeGateway
		want Outcome
	}{
		{"wrong signature", func(t *testing.T) *fakeGateway {
			return md5Gateway(t, answer(func(r *reply) { r.badSign = true }))
		}, OutcomeUnknown},
		{"no signature", func(t *testing.T) *fakeGateway {
			return md5Gateway(t, answer(func(r *reply) { r.noSign = true }))
		}, OutcomeUnknown},
		{"signed with another key", func(t *testing.T) *fakeGateway {
			return newFakeGateway(t, NewMD5Signer(testMD5Key), NewMD5Signer("20000000000000000000000000000000"),
				answer(func(*reply) {}))
		}, OutcomeUnknown},
		{"correctly signed", func(t *testing.T) *fakeGateway {
			return md5Gateway(t, answer(func(*reply) {}))
		}, OutcomeDeclined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, md5Config(tc.g(t)))
			p, perr := c.Pay(ctxT(t), v7Request())
			q, qerr := c.Query(ctxT(t), "T20240101000001")
			cn, cerr := c.Cancel(ctxT(t), "T20240101000001")
			r, rerr := c.Refund(ctxT(t), RefundRequest{PartnerTransID: "T20240101000001", PartnerRefundID: "R1",
				Amount: 100, Currency: "USD"})
			for svc, got := range map[string]Outcome{ServicePay: p.Outcome, ServiceQuery: q.Outcome,
				ServiceCancel: cn.Outcome, ServiceRefund: r.Outcome} {
				if got != tc.want {
					t.Errorf("%s: outcome %v, want %v (errors %v / %v / %v / %v)", svc, got, tc.want,
						perr, qerr, cerr, rerr)
				}
			}
			wantStatus := StatusUnknown
			if tc.want == OutcomeDeclined {
				wantStatus = StatusNotFound
				if perr != nil || qerr != nil || cerr != nil || rerr != nil {
					t.Errorf("a verified decline came with errors %v / %v / %v / %v", perr, qerr, cerr, rerr)
				}
			} else if !errors.Is(perr, ErrBadSignature) || !errors.Is(rerr, ErrBadSignature) {
				t.Errorf("errors %v / %v, want ErrBadSignature", perr, rerr)
			}
			if q.Status != wantStatus {
				t.Errorf("query status %v, want %v", q.Status, wantStatus)
			}
			if tc.want != OutcomeDeclined && cn.RetryFlag != "" {
				t.Errorf("retry_flag %q read from an unverified cancel answer", cn.RetryFlag)
			}
		})
	}
}
