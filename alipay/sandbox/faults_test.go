package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// postStatus posts a JSON body to a /sandbox/ path.
func (e *env) postJSON(path, body string) (int, string) {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// rawPay sends a signed pay and returns the transport error, if any.
func (e *env) rawPay(ctx context.Context, id string, scenario int) (*http.Response, error) {
	p := payParams(id, code(scenario), "1.00", "USD")
	p["service"], p["partner"], p["_input_charset"] = sandbox.ServicePay, testPartner, "UTF-8"
	sign(e.t, md5Signer(), p, "UTF-8")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/gateway.do",
		strings.NewReader(form(e.t, p, "UTF-8")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.srv.Client().Do(req)
}

func TestFault_Down(t *testing.T) {
	e := newEnv(t, nil)
	if code, body := e.postJSON("/sandbox/faults", `{"kind":"down","for":"30s"}`); code != http.StatusOK || !strings.Contains(body, `"down"`) {
		t.Fatalf("POST faults: %d %s", code, body)
	}
	if _, err := e.rawPay(context.Background(), "D-1", 0); err == nil {
		t.Fatal("pay answered while the gateway is down")
	}
	if code, _ := e.getText("/sandbox/trades"); code != http.StatusOK {
		t.Errorf("/sandbox/ affected by the fault: %d", code)
	}
	if _, ok := e.sb.Trade("D-1"); ok {
		t.Error("a trade was created while down")
	}
	e.clock.Advance(30 * time.Second)
	expect(t, e.pay("D-1", 0, "1.00"), map[string]string{"result_code": "SUCCESS"})
}

func TestFault_SystemError(t *testing.T) {
	e := newEnv(t, nil)
	e.pay("E-1", 0, "1.00")
	if err := e.sb.SetFault(sandbox.Fault{Kind: sandbox.FaultSystemError}); err != nil {
		t.Fatal(err)
	}
	expect(t, e.pay("E-2", 0, "1.00"), map[string]string{"result_code": "UNKNOW", "error": "SYSTEM_ERROR"})
	expect(t, e.query("E-1"), map[string]string{"result_code": "FAIL", "error": "SYSTEM_ERROR"})
	expect(t, e.cancel("E-1"), map[string]string{"result_code": "FAIL", "error": "SYSTEM_ERROR", "retry_flag": "Y"})
	expect(t, e.refund("E-1", "E-1-r", "1.00", "USD"), map[string]string{"result_code": "UNKNOW", "error": "SYSTEM_ERROR"})
	// Authentication still comes first.
	p := map[string]string{"service": sandbox.ServiceQuery, "partner": testPartner, "partner_trans_id": "E-1",
		"sign_type": "MD5", "sign": "00000000000000000000000000000000"}
	mustF(t, e.post(p), "ILLEGAL_SIGN")

	if _, ok := e.sb.Trade("E-2"); ok {
		t.Error("pay created a trade during system_error")
	}
	if tr := e.trade("E-1"); tr.Status != sandbox.StatusTradeSuccess || tr.Calls.Query != 0 || tr.Calls.Cancel != 0 {
		t.Errorf("system_error changed the trade: %+v", tr)
	}
	if code, body := e.doDelete("/sandbox/faults"); code != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Fatalf("DELETE faults: %d %s", code, body)
	}
	expect(t, e.query("E-1"), map[string]string{"result_code": "SUCCESS"})
}

func (e *env) doDelete(path string) (int, string) {
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestFault_SlowGivesUpWithTheClient(t *testing.T) {
	e := newEnv(t, nil)
	if code, body := e.postJSON("/sandbox/faults", `{"kind":"slow","delay":"1h"}`); code != http.StatusOK {
		t.Fatalf("POST faults: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.rawPay(ctx, "SL-1", 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pay during a 1h slow fault: %v", err)
	}
	var got []sandbox.FaultStatus
	_, body := e.getText("/sandbox/faults")
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 1 || got[0].Kind != sandbox.FaultSlow || got[0].Delay != "1h0m0s" {
		t.Errorf("GET faults = %s (%v)", body, err)
	}
}

func TestFault_BadRequests(t *testing.T) {
	e := newEnv(t, nil)
	for _, body := range []string{`{"kind":"flood"}`, `{"kind":"slow"}`, `{"kind":"down","for":"soon"}`,
		`{"kind":"down","for":"-1s"}`, `not json`, `{"kind":"down","extra":1}`} {
		if code, resp := e.postJSON("/sandbox/faults", body); code != http.StatusBadRequest || !strings.Contains(resp, `"error"`) {
			t.Errorf("%s: %d %s", body, code, resp)
		}
	}
	var fe *sandbox.FaultError
	if err := e.sb.SetFault(sandbox.Fault{Kind: "nope"}); !errors.As(err, &fe) {
		t.Errorf("SetFault(nope) = %v", err)
	}
}

func TestScenario31_ConnectionClosedButPaid(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.rawPay(context.Background(), "L-31", 31); err == nil {
		t.Fatal("scenario 31 answered")
	}
	expect(t, e.query("L-31"), map[string]string{"alipay_trans_status": "TRADE_SUCCESS"})
	// The answer is lost once; the re-sent pay learns the real status.
	expect(t, e.pay("L-31", 31, "1.00"), map[string]string{"result_code": "SUCCESS"})
}

func TestScenario35_SlowAnswerAfterPaying(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.SlowPayDelay = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.rawPay(ctx, "L-35", 35); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("scenario 35: %v", err)
	}
	expect(t, e.query("L-35"), map[string]string{"alipay_trans_status": "TRADE_SUCCESS"})
}
