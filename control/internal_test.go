package control

import (
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/queue"
)

func TestGatewayTrackerFromJournalEvents(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		ev        queue.Event
		reachable string
	}{
		{queue.Event{Name: queue.EventWaitScan, At: at(0)}, ReachableUnknown},
		{queue.Event{Name: queue.EventSent, Call: queue.CallPay, At: at(1)}, ReachableUnknown},
		{queue.Event{Name: queue.EventUnknown, Call: queue.CallPay, Detail: "error: alipay: send: connection refused", At: at(2)}, ReachableNo},
		{queue.Event{Name: queue.EventAttempt, Call: queue.CallQuery, At: at(3)}, ReachableNo},
		{queue.Event{Name: queue.EventAnswer, Call: queue.CallQuery, Code: "SYSTEM_ERROR", At: at(4)}, ReachableNo},
		{queue.Event{Name: queue.EventApproved, Call: queue.CallQuery, RawStatus: "TRADE_SUCCESS", At: at(5)}, ReachableYes},
		{queue.Event{Name: queue.EventDeclined, Call: queue.CallPay, Code: "BUYER_BALANCE_NOT_ENOUGH", At: at(6)}, ReachableYes},
	}
	var tr gatewayTracker
	for i, st := range steps {
		tr.observe(st.ev)
		if h := tr.health(GatewayHealth{}); h.Reachable != st.reachable {
			t.Fatalf("step %d (%s): reachable %q, want %q", i, st.ev.Name, h.Reachable, st.reachable)
		}
	}
	h := tr.health(GatewayHealth{URL: "u"})
	if h.URL != "u" || h.LastOKCall != "pay" || h.LastCode != "SYSTEM_ERROR" || !h.LastFail.Equal(at(4)) {
		t.Fatalf("health: %+v", h)
	}
}

func TestBundleRedactor(t *testing.T) {
	pemKey := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----\n"
	r := newBundleRedactor([]string{"abc", "s3cr3t-md5-key-0001", pemKey})
	cases := map[string]string{
		`"code":"281234567890123400"`:                                      `"code":"****3400"`,
		`"receipt":"Ref: 1\n281234567890123420"`:                           `"receipt":"Ref: 1\n****3420"`,
		"TBSANDBOX2202611251943322REFRPJE":                                 "TBSANDBOX2202611251943322REFRPJE",
		"amount 123456789012345 and 1234567890123456789012345":             "amount 123456789012345 and 1234567890123456789012345",
		`key=s3cr3t-md5-key-0001 abc`:                                      "key=[REDACTED] abc",
		"VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK": "[REDACTED]",
		`"pem":"` + jsonEscaped(pemKey) + `"`:                              `"pem":"[REDACTED]\n"`,
	}
	for in, want := range cases {
		if got := r.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func jsonEscaped(s string) string {
	return strings.ReplaceAll(s, "\n", `\n`)
}
