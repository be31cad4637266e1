package sandbox_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// filesDay builds a day of activity: a payment with a partial refund, a
// paid trade cancelled (refunded), an unpaid trade cancelled, a decline,
// and a trade of the next day.
func filesDay(t *testing.T) *env {
	e := newEnv(t, nil) // 12:00 Beijing, 2024-01-10
	e.pay("FP-1", 0, "12.50")
	e.clock.Advance(time.Minute)
	e.refund("FP-1", "FP-1-r1", "2.50", "USD")
	e.pay("FP-2", 0, "7.00")
	e.clock.Advance(time.Minute)
	e.cancel("FP-2")
	e.pay("FP-3", 11, "1.00")
	e.cancel("FP-3")
	mustT(t, e.call(sandbox.ServicePay, payParams("FP-4", code(20), "1.00", "USD")))
	e.clock.Advance(12 * time.Hour) // 00:02 next day
	e.pay("FP-5", 0, "3.00")
	return e
}

func TestFiles_Transaction(t *testing.T) {
	e := filesDay(t)
	id := func(p string) string { return e.trade(p).AlipayTransID }
	code, body := e.getText("/sandbox/files/transaction?date=2024-01-10")
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	want := strings.Join([]string{
		"Partner:2088101122136241|Payment_time: 2024-01-10|Total_count:4",
		"Partner_transaction_id|Transaction_id|Transaction_amount|Charge_amount|Currency|Payment_time|Transaction_type|Remark|Secondary_merchant_industry|Secondary_merchant_name|Operator_name|Order_scene|Trans_currency|Trans_amount|Trans_forex_rate",
		"FP-1|" + id("FP-1") + "|12.50|0.00|USD|2024-01-10 12:00:00|PAYMENT||7991|Zoo Ticketing|Main Gate|paymentQrCode|USD|12.50|1.00000000",
		"FP-1-r1|" + id("FP-1") + "|2.50|0.00|USD|2024-01-10 12:01:00|REFUND||7991|Zoo Ticketing|Main Gate|paymentQrCode|USD|2.50|1.00000000",
		"FP-2|" + id("FP-2") + "|7.00|0.00|USD|2024-01-10 12:01:00|PAYMENT||7991|Zoo Ticketing|Main Gate|paymentQrCode|USD|7.00|1.00000000",
		"FP-2|" + id("FP-2") + "|7.00|0.00|USD|2024-01-10 12:02:00|CANCEL||7991|Zoo Ticketing|Main Gate|paymentQrCode|USD|7.00|1.00000000",
		"",
	}, "\n")
	if body != want {
		t.Errorf("transaction file:\n%s\nwant:\n%s", body, want)
	}
	var b bytes.Buffer
	if err := e.sb.WriteTransactionFile(&b, time.Date(2024, 1, 10, 17, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Payment_time: 2024-01-11|Total_count:1") || !strings.Contains(b.String(), "FP-5|") {
		t.Errorf("next day's file (by UTC instant in the Beijing day):\n%s", b.String())
	}
}

func TestFiles_Settlement(t *testing.T) {
	e := filesDay(t)
	id := func(p string) string { return e.trade(p).AlipayTransID }
	code, body := e.getText("/sandbox/files/settlement?date=2024-01-11")
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "Partner_transaction_id|Transaction_id|Amount|Rmb_amount|Fee|") {
		t.Fatalf("settlement file:\n%s", body)
	}
	wantRows := []string{
		"FP-1|" + id("FP-1") + "|12.50|88.75|0.00|12.50|88.75|USD|7.10000000|2024-01-10 12:00:00|2024-01-11 00:00:00|P|L||7991|Zoo Ticketing|Main Gate|paymentQrCode|USD|12.50|1.00000000",
		"FP-1-r1|" + id("FP-1") + "|2.50|17.75|0.00|2.50|17.75|USD|7.10000000|2024-01-10 12:01:00|2024-01-11 00:00:00|R|L||7991|Zoo Ticketing|Main Gate|paymentQrCode|USD|2.50|1.00000000",
		"FP-2|" + id("FP-2") + "|7.00|49.70|0.00|7.00|49.70|USD|7.10000000|2024-01-10 12:01:00|2024-01-11 00:00:00|P|L||7991|Zoo Ticketing|Main Gate|paymentQrCode|USD|7.00|1.00000000",
		id("FP-2") + "|" + id("FP-2") + "|7.00|49.70|0.00|7.00|49.70|USD|7.10000000|2024-01-10 12:02:00|2024-01-11 00:00:00|R|L||7991|Zoo Ticketing|Main Gate|paymentQrCode|USD|7.00|1.00000000",
	}
	for i, w := range wantRows {
		if lines[i+1] != w {
			t.Errorf("row %d:\n got %s\nwant %s", i+1, lines[i+1], w)
		}
	}
	if code, _ := e.getText("/sandbox/files/settlement?date=10-01-2024"); code != http.StatusBadRequest {
		t.Errorf("bad date: HTTP %d", code)
	}
}

func TestFiles_PipesInValuesStayOneRecord(t *testing.T) {
	tr := sandbox.Trade{PartnerTransID: "X|1", AlipayTransID: "2024", Amount: 100, Currency: "USD",
		ExchangeRate: "7.10000000", Memo: "a|b\nc", Created: noon(), Status: sandbox.StatusTradeSuccess}
	paid := noon()
	tr.Paid = &paid
	var b bytes.Buffer
	if err := sandbox.WriteTransactionFile(&b, testPartner, noon(), []sandbox.Trade{tr}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || strings.Count(lines[2], "|") != 14 || !strings.HasPrefix(lines[2], "X 1|") {
		t.Errorf("file:\n%s", b.String())
	}
}
