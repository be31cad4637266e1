package queue

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ExportFormat is the format of Export.
type ExportFormat string

// Export formats.
const (
	ExportCSV  ExportFormat = "csv"  // a header line, then one line per operation
	ExportJSON ExportFormat = "json" // one JSON array of objects
)

// exportRecord is one exported operation: the fields finance reconciles
// against Alipay's transaction and settlement files.
type exportRecord struct {
	ID              string `json:"id"`
	Kind            string `json:"kind"`
	Lane            string `json:"lane"`
	Ref             string `json:"ref"`
	ParentID        string `json:"parent_id"`
	State           string `json:"state"`
	PartnerTransID  string `json:"partner_trans_id"`
	PartnerRefundID string `json:"partner_refund_id"`
	AlipayTransID   string `json:"alipay_trans_id"`
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
	AmountCNY       string `json:"amount_cny"`
	ExchangeRate    string `json:"exchange_rate"`
	Buyer           string `json:"buyer"`
	PaidAt          string `json:"paid_at"`
	CreatedAt       string `json:"created_at"`
	FinalAt         string `json:"final_at"`
	Reason          string `json:"reason"`
}

func exportColumns() []string {
	return []string{"id", "kind", "lane", "ref", "parent_id", "state", "partner_trans_id",
		"partner_refund_id", "alipay_trans_id", "amount", "currency", "amount_cny", "exchange_rate",
		"buyer", "paid_at", "created_at", "final_at", "reason"}
}

func newExportRecord(o Operation) exportRecord {
	return exportRecord{o.ID, string(o.Kind), o.Lane, o.Ref, o.ParentID, string(o.State),
		o.PartnerTransID, o.PartnerRefundID, o.AlipayTransID, o.Amount, o.Currency, o.AmountCNY,
		o.ExchangeRate, o.BuyerMasked, rfc3339(o.PaidAt), rfc3339(o.CreatedAt), rfc3339(o.FinalAt),
		o.Reason}
}

// csv returns the record in exportColumns order, every text cell
// neutralised (csvCell); the amount is a number tillbridge formats itself.
func (r exportRecord) csv() []string {
	out := []string{r.ID, r.Kind, r.Lane, r.Ref, r.ParentID, r.State, r.PartnerTransID,
		r.PartnerRefundID, r.AlipayTransID, strconv.FormatInt(r.Amount, 10), r.Currency, r.AmountCNY,
		r.ExchangeRate, r.Buyer, r.PaidAt, r.CreatedAt, r.FinalAt, r.Reason}
	for i, v := range out {
		if i != amountColumn {
			out[i] = csvCell(v)
		}
	}
	return out
}

// amountColumn is the index of "amount" in exportColumns.
const amountColumn = 9

// csvCell neutralises a text cell against CSV (formula) injection: a cell
// starting with =, +, -, @, a tab or a carriage return is a formula to
// Excel and LibreOffice, and refs, lanes and reasons come from the ECR or
// the gateway. Such a cell gets a leading single quote, which spreadsheets
// show as text (OWASP "CSV Injection").
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Export writes the operations created in [from, to) to w, oldest first, in
// CSV or JSON. Amounts are integer minor units; times are RFC 3339 UTC. Only
// masked buyer codes exist in the journal, so none can leak. CSV text cells
// that a spreadsheet would run as a formula are prefixed with a single
// quote (csvCell); JSON is written as is.
func (e *Engine) Export(ctx context.Context, w io.Writer, from, to time.Time, format ExportFormat) error {
	if format != ExportCSV && format != ExportJSON {
		return &InvalidError{Field: "format", Reason: fmt.Sprintf("%q is not csv or json", format)}
	}
	rows, err := e.st.r.QueryContext(ctx, "SELECT "+opColumns+
		" FROM operations WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id",
		from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return fmt.Errorf("queue: export: %w", err)
	}
	defer rows.Close()
	out := newExportWriter(w, format)
	if err := out.begin(); err != nil {
		return err
	}
	for rows.Next() {
		o, err := scanOp(rows)
		if err != nil {
			return fmt.Errorf("queue: export: %w", err)
		}
		if err := out.row(newExportRecord(o)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("queue: export: %w", err)
	}
	return out.end()
}

// exportWriter streams rows in one format.
type exportWriter struct {
	w      io.Writer
	format ExportFormat
	csv    *csv.Writer
	n      int
}

func newExportWriter(w io.Writer, f ExportFormat) *exportWriter {
	return &exportWriter{w: w, format: f, csv: csv.NewWriter(w)}
}

func (x *exportWriter) begin() error {
	if x.format == ExportCSV {
		return x.csv.Write(exportColumns())
	}
	_, err := io.WriteString(x.w, "[")
	return err
}

func (x *exportWriter) row(r exportRecord) error {
	if x.format == ExportCSV {
		return x.csv.Write(r.csv())
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("queue: export: %w", err)
	}
	sep := ",\n"
	if x.n == 0 {
		sep = "\n"
	}
	x.n++
	_, err = io.WriteString(x.w, sep+string(b))
	return err
}

func (x *exportWriter) end() error {
	if x.format == ExportCSV {
		x.csv.Flush()
		return x.csv.Error()
	}
	_, err := io.WriteString(x.w, "\n]\n")
	return err
}
