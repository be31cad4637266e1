package parse

import (
	"fmt"
	"strings"
	"time"
)

// Settlement types and status (§10.4).
const (
	SettlePayment = "P"
	SettleRefund  = "R"
	StatusSettled = "L"
)

var settlementColumns = []string{"Partner_transaction_id", "Transaction_id", "Amount", "Rmb_amount",
	"Fee", "Settlement", "Rmb_settlement", "Currency", "Rate", "Payment_time", "Settlement_time",
	"Type", "Status", "Remarks", "Secondary_merchant_industry", "Secondary_merchant_name",
	"Operator_name", "Order_scene", "Trans_currency", "Trans_amount", "Trans_forex_rate"}

// Settlement is one record of the settlement file.
type Settlement struct {
	Line           int       `json:"line"`
	PartnerTransID string    `json:"partner_transaction_id"` // partner_trans_id (P), partner_refund_id (R), or the Alipay id of a cancelled trade
	TransactionID  string    `json:"transaction_id"`
	Amount         int64     `json:"amount"` // minor units of Currency, positive
	RmbAmount      int64     `json:"rmb_amount"`
	Fee            int64     `json:"fee"`
	Settlement     int64     `json:"settlement"` // amount settled, minor units of Currency
	RmbSettlement  int64     `json:"rmb_settlement"`
	Currency       string    `json:"currency"`
	Rate           string    `json:"rate"`
	PaymentTime    time.Time `json:"payment_time"`
	SettlementTime time.Time `json:"settlement_time"`
	Type           string    `json:"type"`   // P or R
	Status         string    `json:"status"` // L
}

// SettlementFile is a parsed settlement file. §10.4 shows no header
// record; when the file starts with one ("Partner:…|Settlement_time:…|
// Total_count:N") it is read and Total_count checked.
type SettlementFile struct {
	Name       string       `json:"name"`
	Partner    string       `json:"partner,omitempty"`
	Day        string       `json:"day,omitempty"`
	TotalCount int          `json:"total_count"` // -1 when the file has no header record
	Records    []Settlement `json:"records"`
	Problems   []Problem    `json:"problems,omitempty"`
}

// ParseSettlements parses a settlement file's raw bytes (plain, gzip or
// zip; UTF-8 or GBK).
func ParseSettlements(name string, raw []byte, cs Charset) (*SettlementFile, error) {
	text, err := Decode(name, raw, cs)
	if err != nil {
		return nil, err
	}
	return ParseSettlementText(name, text)
}

// ParseSettlementText parses a decoded settlement file.
func ParseSettlementText(name, text string) (*SettlementFile, error) {
	ls := lines(text)
	f := &SettlementFile{Name: name, TotalCount: -1}
	first := 1
	if len(ls) > 0 && strings.HasPrefix(strings.TrimSpace(ls[0]), "Partner:") {
		var err error
		if f.Partner, f.Day, f.TotalCount, err = parseHeader(name, ls[0], "Settlement_time"); err != nil {
			return nil, err
		}
		first = 2
	}
	if len(ls) < first {
		return nil, &FormatError{File: name, Reason: "want a column-name line"}
	}
	pos, width, err := columns(name, first, ls[first-1], settlementColumns)
	if err != nil {
		return nil, err
	}
	bj := Beijing()
	f.Records, f.Problems = parseRecords(ls, first, pos, width, f.TotalCount, func(r *record, line int) Settlement {
		return parseSettlement(r, line, bj)
	})
	return f, nil
}

func parseSettlement(r *record, line int, bj *time.Location) Settlement {
	s := Settlement{Line: line}
	s.PartnerTransID = r.nonEmpty("Partner_transaction_id")
	s.TransactionID = r.digitsOnly("Transaction_id")
	s.Currency = r.currency("Currency")
	s.Amount, _ = r.amount("Amount", s.Currency)
	s.RmbAmount, _ = r.amount("Rmb_amount", "CNY")
	s.Fee, _ = r.amount("Fee", s.Currency)
	s.Settlement, _ = r.amount("Settlement", s.Currency)
	s.RmbSettlement, _ = r.amount("Rmb_settlement", "CNY")
	s.Rate = r.rate("Rate")
	s.PaymentTime = r.time("Payment_time", bj)
	s.SettlementTime = r.time("Settlement_time", bj)
	s.Type = r.str("Type")
	if s.Type != SettlePayment && s.Type != SettleRefund {
		r.fail("Type", fmt.Sprintf("%q is not P or R", s.Type))
	}
	s.Status = r.str("Status")
	if s.Status != StatusSettled {
		r.fail("Status", fmt.Sprintf("%q is not L (settled)", s.Status))
	}
	return s
}
