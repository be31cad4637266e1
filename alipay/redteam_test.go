package alipay

import (
	"errors"
	"strings"
	"testing"
)

// Invariant 6: an answer that echoes the request in a broken way can make
// the XML parser quote the full buyer code in its error ("invalid XML
// name: 2812…", "invalid character entity &2812…;", "element <a2812…>
// closed by …"). That error text goes to the trace (the daemon's log line)
// and, through the engine, into the journal's event detail; an is_success=F
// answer can even carry it as its error code. The client masks the code in
// every error and code of Pay; errors.As still sees the original error, and
// the outcome stays Unknown.
func TestRedTeamPayErrorsNeverQuoteTheBuyerCode(t *testing.T) {
	code := v7Request().BuyerCode
	bodies := []string{
		`<?xml version="1.0"?><alipay><is_success>T</is_success><` + code + `/></alipay>`,
		`<?xml version="1.0"?><alipay><is_success>T</is_success><request>&` + code + `;</request></alipay>`,
		`<?xml version="1.0"?><alipay><is_success>T</is_success><c` + code + `></b></alipay>`,
		`<?xml version="1.0"?><alipay><is_success>F</is_success><error>` + code + `</error></alipay>`,
	}
	for i, body := range bodies {
		var traced []TraceEvent
		g := md5Gateway(t, func(map[string]string) reply { return reply{raw: []byte(body)} })
		c := newTestClient(t, md5Config(g), WithTrace(func(ev TraceEvent) { traced = append(traced, ev) }))
		res, err := c.Pay(ctxT(t), v7Request())
		if err == nil {
			t.Fatalf("body %d: no error", i)
		}
		if res.Outcome != OutcomeUnknown {
			t.Errorf("body %d: outcome %v, want unknown", i, res.Outcome)
		}
		if strings.Contains(err.Error(), code) {
			t.Errorf("body %d: error quotes the buyer code: %v", i, err)
		}
		if strings.Contains(res.Error+res.ResultCode+res.Detail.GatewayError+res.Detail.Error, code) {
			t.Errorf("body %d: result codes quote the buyer code: %+v", i, res)
		}
		if len(traced) != 1 || traced[0].Err == nil || strings.Contains(traced[0].Err.Error(), code) ||
			strings.Contains(traced[0].ErrorCode, code) {
			t.Errorf("body %d: trace %+v", i, traced)
		}
		var me *MalformedError
		var ge *GatewayError
		if !errors.As(err, &me) && !errors.As(err, &ge) {
			t.Errorf("body %d: the error lost its type: %T", i, err)
		}
	}
}
