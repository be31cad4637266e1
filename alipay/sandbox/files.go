package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Transaction types of the transaction file (reference §10.3).
const (
	TypePayment = "PAYMENT"
	TypeRefund  = "REFUND"
	TypeCancel  = "CANCEL"
)

// orderSceneBarcode is the Order_scene of a barcode payment.
const orderSceneBarcode = "paymentQrCode"

// transactionColumns is the column-name line of the transaction file.
const transactionColumns = "Partner_transaction_id|Transaction_id|Transaction_amount|Charge_amount|Currency|" +
	"Payment_time|Transaction_type|Remark|Secondary_merchant_industry|Secondary_merchant_name|" +
	"Operator_name|Order_scene|Trans_currency|Trans_amount|Trans_forex_rate"

// settlementColumns is the column-name line of the settlement file.
const settlementColumns = "Partner_transaction_id|Transaction_id|Amount|Rmb_amount|Fee|Settlement|" +
	"Rmb_settlement|Currency|Rate|Payment_time|Settlement_time|Type|Status|Remarks|" +
	"Secondary_merchant_industry|Secondary_merchant_name|Operator_name|Order_scene|" +
	"Trans_currency|Trans_amount|Trans_forex_rate"

// movement is one money movement of a trade: its payment, a refund, or
// the refund a cancel made.
type movement struct {
	kind   string // TypePayment, TypeRefund, TypeCancel
	id     string // partner_trans_id, or partner_refund_id for refunds
	at     time.Time
	amount int64
	trade  *Trade
	fee    int64 // Charge_amount (planted by a FileFault; the sandbox charges none)
}

// movements lists the money movements of trades within [from, to), in time
// order. A cancel of an unpaid trade moves no money and is not listed.
func movements(trades []Trade, from, to time.Time) []movement {
	var out []movement
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	for i := range trades {
		t := &trades[i]
		if t.Paid == nil {
			continue
		}
		if in(*t.Paid) {
			out = append(out, movement{TypePayment, t.PartnerTransID, *t.Paid, t.Amount, t, 0})
		}
		var refunded int64
		for _, r := range t.Refunds {
			refunded += r.Amount
			if in(r.Time) {
				out = append(out, movement{TypeRefund, r.PartnerRefundID, r.Time, r.Amount, t, 0})
			}
		}
		if t.ClosedBy == ClosedByCancel && t.Closed != nil && in(*t.Closed) {
			out = append(out, movement{TypeCancel, t.PartnerTransID, *t.Closed, t.Amount - refunded, t, 0})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// beijingDay returns the bounds of the Beijing calendar day containing day.
func beijingDay(day time.Time) (from, to time.Time) {
	d := day.In(beijing())
	from = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, beijing())
	return from, from.AddDate(0, 0, 1)
}

// WriteTransactionFile writes the transaction file of the Beijing (GMT+8)
// day containing day, in the pipe-separated format of reference §10.3: a
// header record, the column names, then one record per payment, refund
// and cancel (of a paid trade) of that day. Amounts are positive; the
// sandbox charges no fee.
func WriteTransactionFile(w io.Writer, partner string, day time.Time, trades []Trade) error {
	from, to := beijingDay(day)
	return writeTransactions(w, partner, from, movements(trades, from, to))
}

// writeTransactions writes a transaction file of the day starting at from.
func writeTransactions(w io.Writer, partner string, from time.Time, ms []movement) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Partner:%s|Payment_time: %s|Total_count:%d\n", partner, from.Format(time.DateOnly), len(ms))
	fmt.Fprintln(bw, transactionColumns)
	for _, m := range ms {
		t := m.trade
		amt := formatMinor(m.amount, t.Currency)
		writeRecord(bw, m.id, t.AlipayTransID, amt, formatMinor(m.fee, t.Currency), t.Currency,
			m.at.In(beijing()).Format(time.DateTime), m.kind, t.Memo,
			t.Merchant.SecondaryMerchantIndustry, t.Merchant.SecondaryMerchantName, t.Merchant.StoreName,
			orderSceneBarcode, t.Currency, amt, "1.00000000")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sandbox: write transaction file: %w", err)
	}
	return nil
}

// WriteSettlementFile writes the settlement file of the Beijing (GMT+8)
// day containing day, in the pipe-separated format of reference §10.4: the
// column names, then one record per movement settled that day, by the
// weekend rule of reference §10.1 (see SettledOn): Tuesday to Friday
// settle the day before, Monday settles Friday to Sunday, and Saturday and
// Sunday settle nothing (the file then has its column line only; WriteFiles
// writes none, as Alipay does). Holidays are not simulated.
// Payments are Type P; refunds and the refund of a cancelled paid trade
// are Type R (for the cancel, Partner_transaction_id is the Alipay id).
func WriteSettlementFile(w io.Writer, day time.Time, trades []Trade) error {
	from, _ := beijingDay(day)
	start, ok := SettledOn(from)
	if !ok {
		return writeSettlements(w, from, nil)
	}
	return writeSettlements(w, from, movements(trades, start, from))
}

// SettledOn returns when the movements settled on the Beijing day starting
// at from began: they are those from start up to from. Friday 00:00 to
// Sunday 23:59 is settled on Monday; any other day on the next one; ok is
// false on Saturday and Sunday, when nothing is settled.
func SettledOn(from time.Time) (start time.Time, ok bool) {
	switch from.In(beijing()).Weekday() {
	case time.Saturday, time.Sunday:
		return time.Time{}, false
	case time.Monday:
		return from.AddDate(0, 0, -3), true
	}
	return from.AddDate(0, 0, -1), true
}

// writeSettlements writes the settlement file of the day starting at from.
func writeSettlements(w io.Writer, from time.Time, ms []movement) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, settlementColumns)
	for _, m := range ms {
		writeSettlementRecord(bw, m, from)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sandbox: write settlement file: %w", err)
	}
	return nil
}

// writeSettlementRecord writes one settlement record.
func writeSettlementRecord(w io.Writer, m movement, settledAt time.Time) {
	t := m.trade
	id, typ := m.id, "P"
	if m.kind != TypePayment {
		typ = "R"
	}
	if m.kind == TypeCancel {
		id = t.AlipayTransID
	}
	amt := formatMinor(m.amount, t.Currency)
	rmb := formatCNY(toCNY(m.amount, t.Currency, t.ExchangeRate))
	settled := formatMinor(m.amount-m.fee, t.Currency)
	rmbSettled := formatCNY(toCNY(m.amount-m.fee, t.Currency, t.ExchangeRate))
	writeRecord(w, id, t.AlipayTransID, amt, rmb, formatMinor(m.fee, t.Currency), settled, rmbSettled, t.Currency,
		t.ExchangeRate, m.at.In(beijing()).Format(time.DateTime), settledAt.Format(time.DateTime), typ, "L",
		t.Memo, t.Merchant.SecondaryMerchantIndustry, t.Merchant.SecondaryMerchantName,
		t.Merchant.StoreName, orderSceneBarcode, t.Currency, amt, "1.00000000")
}

// writeRecord writes one pipe-separated record; a pipe or line break
// inside a value becomes a space so the record stays one line.
func writeRecord(w io.Writer, fields ...string) {
	clean := strings.NewReplacer("|", " ", "\n", " ", "\r", " ")
	for i, f := range fields {
		fields[i] = clean.Replace(f)
	}
	fmt.Fprintln(w, strings.Join(fields, "|"))
}

// WriteTransactionFile writes the transaction file of the Beijing day
// containing day for every trade of the Server.
func (s *Server) WriteTransactionFile(w io.Writer, day time.Time) error {
	from, to := beijingDay(day)
	return writeTransactions(w, s.cfg.Partner, from, s.applyFileFaults(movements(s.Trades(), from, to), from, to))
}

// WriteSettlementFile writes the settlement file of the Beijing day
// containing day for every trade of the Server.
func (s *Server) WriteSettlementFile(w io.Writer, day time.Time) error {
	from, _ := beijingDay(day)
	start, ok := SettledOn(from)
	if !ok {
		return writeSettlements(w, from, nil) // a weekend day settles nothing
	}
	return writeSettlements(w, from, s.applyFileFaults(movements(s.Trades(), start, from), start, from))
}

// errBadDate reports a missing or malformed ?date=.
var errBadDate = errors.New("want ?date=YYYY-MM-DD")

// handleTransactionFile serves GET /sandbox/files/transaction?date=….
func (s *Server) handleTransactionFile(w http.ResponseWriter, r *http.Request) {
	s.serveFile(w, r, "transaction", s.WriteTransactionFile)
}

// handleSettlementFile serves GET /sandbox/files/settlement?date=….
func (s *Server) handleSettlementFile(w http.ResponseWriter, r *http.Request) {
	s.serveFile(w, r, "settlement", s.WriteSettlementFile)
}

// serveFile answers one file as text, named as Alipay's SFTP names it
// (PID_kind_YYYYMMDD.txt).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, kind string, write func(io.Writer, time.Time) error) {
	day, err := time.ParseInLocation(time.DateOnly, r.URL.Query().Get("date"), beijing())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, errBadDate)
		return
	}
	var b strings.Builder
	if err := write(&b, day); err != nil {
		writeJSONError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Content-Disposition",
		fmt.Sprintf(`attachment; filename="%s_%s_%s.txt"`, s.cfg.Partner, kind, day.Format("20060102")))
	_, _ = io.WriteString(w, b.String())
}
