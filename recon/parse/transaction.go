package parse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Transaction types of the transaction file.
const (
	TypePayment  = "PAYMENT"
	TypeRefund   = "REFUND"
	TypeCancel   = "CANCEL"
	TypeReversal = "REVERSAL"
)

// TransactionColumns are the columns a transaction file must have (§10.3).
var transactionColumns = []string{"Partner_transaction_id", "Transaction_id", "Transaction_amount",
	"Charge_amount", "Currency", "Payment_time", "Transaction_type", "Remark",
	"Secondary_merchant_industry", "Secondary_merchant_name", "Operator_name", "Order_scene",
	"Trans_currency", "Trans_amount", "Trans_forex_rate"}

// Transaction is one record of the transaction file.
type Transaction struct {
	Line           int       `json:"line"`
	PartnerTransID string    `json:"partner_transaction_id"` // partner_trans_id, or partner_refund_id for a REFUND
	TransactionID  string    `json:"transaction_id"`         // Alipay's trade id
	Amount         int64     `json:"amount"`                 // minor units of Currency, positive
	Fee            int64     `json:"fee"`                    // Charge_amount, minor units of Currency
	Currency       string    `json:"currency"`
	Time           time.Time `json:"time"`
	Type           string    `json:"type"` // PAYMENT, REFUND, CANCEL, REVERSAL
	Remark         string    `json:"remark,omitempty"`
	Operator       string    `json:"operator,omitempty"`
	OrderScene     string    `json:"order_scene,omitempty"`
	TransCurrency  string    `json:"trans_currency"`
	TransAmount    int64     `json:"trans_amount"`
	ForexRate      string    `json:"forex_rate"`
}

// TransactionFile is a parsed transaction file.
type TransactionFile struct {
	Name       string        `json:"name"`
	Partner    string        `json:"partner"`
	Day        string        `json:"day"` // YYYY-MM-DD (Beijing)
	TotalCount int           `json:"total_count"`
	Records    []Transaction `json:"records"`
	Problems   []Problem     `json:"problems,omitempty"` // bad lines, never skipped silently
}

// headerRE matches one "Key:value" of the header record.
var headerRE = regexp.MustCompile(`^\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$`)

// parseHeader reads the header record "Partner:…|Payment_time: …|Total_count:N".
func parseHeader(name, line string, dayKey string) (partner, day string, count int, err error) {
	got := map[string]string{}
	for _, part := range strings.Split(line, "|") {
		m := headerRE.FindStringSubmatch(part)
		if m == nil {
			return "", "", 0, &FormatError{File: name, Line: 1, Reason: fmt.Sprintf("header record: %q is not Key:value", part)}
		}
		got[m[1]] = m[2]
	}
	partner, day = got["Partner"], got[dayKey]
	if !digits(partner) || len(partner) > 16 {
		return "", "", 0, &FormatError{File: name, Line: 1, Reason: fmt.Sprintf("header record: Partner %q is not up to 16 digits", partner)}
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return "", "", 0, &FormatError{File: name, Line: 1, Reason: fmt.Sprintf("header record: %s %q is not YYYY-MM-DD", dayKey, day)}
	}
	c, ok := got["Total_count"]
	n, cerr := strconv.Atoi(c)
	if !ok || cerr != nil || n < 0 || len(c) > 9 {
		return "", "", 0, &FormatError{File: name, Line: 1, Reason: fmt.Sprintf("header record: Total_count %q is not a number", c)}
	}
	return partner, day, n, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ParseTransactions parses a transaction file's raw bytes (plain, gzip or
// zip; UTF-8 or GBK). A file that cannot be read at all is a *FormatError;
// bad records and a Total_count that disagrees are Problems.
func ParseTransactions(name string, raw []byte, cs Charset) (*TransactionFile, error) {
	text, err := Decode(name, raw, cs)
	if err != nil {
		return nil, err
	}
	return ParseTransactionText(name, text)
}

// ParseTransactionText parses a decoded transaction file.
func ParseTransactionText(name, text string) (*TransactionFile, error) {
	ls := lines(text)
	if len(ls) < 2 {
		return nil, &FormatError{File: name, Reason: "want a header record and a column-name line"}
	}
	f := &TransactionFile{Name: name}
	var err error
	if f.Partner, f.Day, f.TotalCount, err = parseHeader(name, ls[0], "Payment_time"); err != nil {
		return nil, err
	}
	pos, width, err := columns(name, 2, ls[1], transactionColumns)
	if err != nil {
		return nil, err
	}
	bj := Beijing()
	f.Records, f.Problems = parseRecords(ls, 2, pos, width, f.TotalCount, func(r *record, line int) Transaction {
		return parseTransaction(r, line, bj)
	})
	return f, nil
}

var transactionTypes = map[string]bool{TypePayment: true, TypeRefund: true, TypeCancel: true, TypeReversal: true}

func parseTransaction(r *record, line int, bj *time.Location) Transaction {
	t := Transaction{Line: line}
	t.PartnerTransID = r.nonEmpty("Partner_transaction_id")
	t.TransactionID = r.digitsOnly("Transaction_id")
	t.Currency = r.currency("Currency")
	t.Amount, _ = r.amount("Transaction_amount", t.Currency)
	t.Fee, _ = r.amount("Charge_amount", t.Currency)
	t.Time = r.time("Payment_time", bj)
	t.Type = r.str("Transaction_type")
	if !transactionTypes[t.Type] {
		r.fail("Transaction_type", fmt.Sprintf("%q is not PAYMENT, REVERSAL, REFUND or CANCEL", t.Type))
	}
	t.Remark, t.Operator, t.OrderScene = r.str("Remark"), r.str("Operator_name"), r.str("Order_scene")
	t.TransCurrency = r.currency("Trans_currency")
	t.TransAmount, _ = r.amount("Trans_amount", t.TransCurrency)
	t.ForexRate = r.rate("Trans_forex_rate")
	return t
}
