package parse

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

const txnGood = `Partner:2088000000007430|Payment_time: 2026-03-04|Total_count:3
Partner_transaction_id|Transaction_id|Transaction_amount|Charge_amount|Currency|Payment_time|Transaction_type|Remark|Secondary_merchant_industry|Secondary_merchant_name|Operator_name|Order_scene|Trans_currency|Trans_amount|Trans_forex_rate
TBT0120260304020000AAAA|2026030422001000000000000001|12.50|0.00|HKD|2026-03-04 10:00:00|PAYMENT|票|7991|博物馆|Main Gate|paymentQrCode|HKD|12.50|1.00000000
TRT0120260304030000BBBB|2026030422001000000000000001|2.50|0.00|HKD|2026-03-04 11:00:00|REFUND||7991||Main Gate|paymentQrCode|HKD|2.50|1.00000000
TBT0120260304040000CCCC|2026030422001000000000000002|500|0|JPY|2026-03-04 12:00:00|PAYMENT||7991||Main Gate|paymentQrCode|JPY|500|1.00000000
`

func TestParseTransactionsGood(t *testing.T) {
	t.Parallel()
	f, err := ParseTransactions("t.txt", []byte(txnGood), CharsetAuto)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Problems) != 0 {
		t.Fatalf("problems: %v", f.Problems)
	}
	if f.Partner != "2088000000007430" || f.Day != "2026-03-04" || f.TotalCount != 3 || len(f.Records) != 3 {
		t.Fatalf("header/records: %+v", f)
	}
	r := f.Records[0]
	if r.Amount != 1250 || r.Currency != "HKD" || r.Type != TypePayment || r.Line != 3 || r.Remark != "票" {
		t.Fatalf("record 0: %+v", r)
	}
	if f.Records[2].Amount != 500 || f.Records[2].Currency != "JPY" {
		t.Fatalf("JPY: %+v", f.Records[2])
	}
	if got := r.Time.UTC().Format("15:04"); got != "02:00" {
		t.Fatalf("time is not GMT+8: %s", got)
	}
}

func TestParseTransactionsEncodings(t *testing.T) {
	t.Parallel()
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(txnGood))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(gbk)
	zw.Close()
	var zb bytes.Buffer
	z := zip.NewWriter(&zb)
	w, _ := z.Create("2088000000007430_transaction_20260304.txt")
	w.Write([]byte(txnGood))
	z.Close()
	for name, raw := range map[string][]byte{"gbk": gbk, "gzip+gbk": gz.Bytes(), "zip": zb.Bytes(),
		"bom": append([]byte("\xef\xbb\xbf"), txnGood...), "crlf": []byte(strings.ReplaceAll(txnGood, "\n", "\r\n"))} {
		f, err := ParseTransactions(name, raw, CharsetAuto)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(f.Problems) != 0 || len(f.Records) != 3 || f.Records[0].Remark != "票" {
			t.Fatalf("%s: %v %+v", name, f.Problems, f.Records)
		}
	}
}

func TestParseTransactionsBadLinesReported(t *testing.T) {
	t.Parallel()
	lines := strings.Split(strings.TrimSuffix(txnGood, "\n"), "\n")
	lines[0] = strings.Replace(lines[0], "Total_count:3", "Total_count:6", 1)
	lines[2] = strings.Replace(lines[2], "12.50|0.00", "12.505|0.00", 1)               // 3 decimals
	lines[3] = strings.Replace(lines[3], "2026-03-04 11:00:00", "2026-03-04T11:00", 1) // bad time
	lines = append(lines, "only|three|fields", "X|123|1.00|0.00|HKD|2026-03-04 12:00:00|PAYOUT||||||HKD|1.00|1.00000000", "")
	f, err := ParseTransactionText("bad.txt", strings.Join(lines, "\n")+"\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{3: "Transaction_amount", 4: "Payment_time", 6: "", 7: "Transaction_type"}
	got := map[int]string{}
	for _, p := range f.Problems {
		got[p.Line] = p.Column
	}
	for line, col := range want {
		if c, ok := got[line]; !ok || c != col {
			t.Errorf("line %d: want problem in %q, got %v", line, col, f.Problems)
		}
	}
	if got[1] != "Total_count" {
		t.Errorf("Total_count 6 vs 5 records not reported: %v", f.Problems)
	}
	if len(f.Records) != 1 {
		t.Errorf("want the 1 good record, got %d", len(f.Records))
	}
}

func TestParseTransactionsFatal(t *testing.T) {
	t.Parallel()
	for name, text := range map[string]string{
		"empty":          "",
		"no header":      "Partner_transaction_id|Transaction_id\n",
		"bad partner":    "Partner:abc|Payment_time: 2026-03-04|Total_count:0\n" + strings.Split(txnGood, "\n")[1] + "\n",
		"missing column": "Partner:2088000000007430|Payment_time: 2026-03-04|Total_count:0\nPartner_transaction_id|Transaction_id\n",
	} {
		_, err := ParseTransactionText(name, text)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: want *FormatError, got %v", name, err)
		}
	}
	if _, err := ParseTransactions("bad.gz", []byte{0x1f, 0x8b, 1, 2}, CharsetAuto); err == nil {
		t.Error("corrupt gzip accepted")
	}
	if _, err := ParseTransactions("x", []byte{0xff, 0xfe, 0xfd}, CharsetUTF8); err == nil {
		t.Error("invalid UTF-8 accepted with CharsetUTF8")
	}
}

const settleGood = `Partner_transaction_id|Transaction_id|Amount|Rmb_amount|Fee|Settlement|Rmb_settlement|Currency|Rate|Payment_time|Settlement_time|Type|Status|Remarks|Secondary_merchant_industry|Secondary_merchant_name|Operator_name|Order_scene|Trans_currency|Trans_amount|Trans_forex_rate
TBT0120260304020000AAAA|2026030422001000000000000001|12.50|11.50|0.25|12.25|11.27|HKD|0.92000000|2026-03-04 10:00:00|2026-03-05 00:00:00|P|L||7991||Main Gate|paymentQrCode|HKD|12.50|1.00000000
TRT0120260304030000BBBB|2026030422001000000000000001|2.50|2.30|0.00|2.50|2.30|HKD|0.92000000|2026-03-04 11:00:00|2026-03-05 00:00:00|R|X||7991||Main Gate|paymentQrCode|HKD|2.50|1.00000000
`

func TestParseSettlements(t *testing.T) {
	t.Parallel()
	f, err := ParseSettlements("s.txt", []byte(settleGood), CharsetAuto)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 1 || f.Records[0].Fee != 25 || f.Records[0].Settlement != 1225 || f.Records[0].RmbAmount != 1150 {
		t.Fatalf("records: %+v", f.Records)
	}
	if len(f.Problems) != 1 || f.Problems[0].Line != 3 || f.Problems[0].Column != "Status" {
		t.Fatalf("problems: %v", f.Problems)
	}
	withHeader := "Partner:2088000000007430|Settlement_time: 2026-03-05|Total_count:5\n" + settleGood
	f, err = ParseSettlementText("h.txt", withHeader)
	if err != nil {
		t.Fatal(err)
	}
	if f.TotalCount != 5 || f.Problems[len(f.Problems)-1].Column != "Total_count" {
		t.Fatalf("header: %+v", f)
	}
}

func TestParseMinor(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"0": 0, "0.00": 0, "12.5": 1250, "12.50": 1250, "7": 700} {
		if got, _, err := ParseMinor(in, 2); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, in := range []string{"", ".5", "1.", "1.234", "1e3", "+1", "1,00", "--1"} {
		if _, _, err := ParseMinor(in, 2); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if FormatMinor(5, "USD") != "0.05" || FormatMinor(-1250, "HKD") != "-12.50" || FormatMinor(500, "JPY") != "500" {
		t.Error("FormatMinor")
	}
}
