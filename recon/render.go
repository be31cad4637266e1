package recon

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/tillbridge/tillbridge/recon/parse"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("recon: write json: %w", err)
	}
	return nil
}

// csvColumns are the columns of WriteCSV.
var csvColumns = []string{"day", "class", "exception", "type", "key", "file", "line", "alipay_trans_id", "amount",
	"currency", "fee", "settlement", "journal", "op_id", "lane", "ref", "state", "local_amount", "local_currency",
	"carried", "detail"}

// WriteCSV writes one line per item (amounts as decimals), for a
// spreadsheet.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvColumns)
	for _, it := range r.Items {
		_ = cw.Write([]string{r.Day, string(it.Class), strconv.FormatBool(it.Class.Exception()), it.Type, it.Key,
			it.File, strconv.Itoa(it.Line), it.AlipayTransID, money(it.Amount, it.Currency), it.Currency,
			money(it.Fee, it.Currency), money(it.Settlement, it.Currency), it.Journal, it.OpID, it.Lane, it.Ref,
			it.State, money(it.LocalAmount, it.LocalCurrency), it.LocalCurrency, strconv.FormatBool(it.Carried), it.Detail})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("recon: write csv: %w", err)
	}
	return nil
}

func money(v int64, cur string) string {
	if cur == "" {
		return ""
	}
	return parse.FormatMinor(v, cur)
}

// WriteText writes the report for a terminal: verdict, totals per
// currency, then the exceptions and the other tills' records; matched
// items are counted, not listed.
func WriteText(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "Reconciliation of %s (partner %s): %s\n", r.Day, r.Partner, r.Verdict())
	fmt.Fprintf(w, "files: %v\njournals: %v\n\n", r.Files, r.Journals)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "currency\tpayments\trefunds\tcancels\tfees\tnet\tjournal payments\tjournal refunds\tsettled\tsettlement fees\tnet settlement\tother tills\t")
	for _, t := range r.Totals {
		c := t.Currency
		fmt.Fprintf(tw, "%s\t%d = %s\t%d = %s\t%d = %s\t%s\t%s\t%d = %s\t%d = %s\t%d = %s\t%s\t%s\t%d = %s\t\n", c,
			t.Payments, money(t.PaymentSum, c), t.Refunds, money(t.RefundSum, c), t.Cancels, money(t.CancelSum, c),
			money(t.Fees, c), money(t.Net, c), t.JournalPayments, money(t.JournalPaymentSum, c),
			t.JournalRefunds, money(t.JournalRefundSum, c), t.Settled, money(t.SettledAmount, c),
			money(t.SettlementFees, c), money(t.NetSettlement, c), t.OtherTillRecs, money(t.OtherTillNet, c))
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, c := range Classes() {
		if r.Counts[c] > 0 {
			fmt.Fprintf(w, "%-20s %d\n", c, r.Counts[c])
		}
	}
	for _, c := range Classes() {
		if c == ClassMatched || c == ClassSettled || r.Counts[c] == 0 {
			continue
		}
		fmt.Fprintf(w, "\n== %s ==\n", c)
		for _, it := range r.Items {
			if it.Class != c {
				continue
			}
			fmt.Fprintf(w, "  %s %s %s %s", it.Type, it.Key, money(it.Amount, it.Currency), it.Currency)
			if it.File != "" {
				fmt.Fprintf(w, " [%s:%d]", it.File, it.Line)
			}
			if it.OpID != "" {
				fmt.Fprintf(w, " op %s lane %s ref %s %s", it.OpID, it.Lane, it.Ref, it.State)
			}
			fmt.Fprintln(w)
			if it.Detail != "" {
				fmt.Fprintf(w, "    %s\n", it.Detail)
			}
		}
	}
	return nil
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{"money": money}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Reconciliation {{.Day}}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}
.x{background:#fdd}.ok{background:#dfd}</style></head><body>
<h1>Reconciliation of {{.Day}} — partner {{.Partner}}</h1>
<p><b>{{.Verdict}}</b></p>
<h2>Totals</h2><table><tr><th>currency</th><th>payments</th><th>refunds</th><th>cancels</th><th>fees</th><th>net</th>
<th>journal payments</th><th>journal refunds</th><th>net settlement</th><th>other tills</th></tr>
{{range .Totals}}<tr><td>{{.Currency}}</td><td>{{.Payments}} = {{money .PaymentSum .Currency}}</td>
<td>{{.Refunds}} = {{money .RefundSum .Currency}}</td><td>{{.Cancels}} = {{money .CancelSum .Currency}}</td>
<td>{{money .Fees .Currency}}</td><td>{{money .Net .Currency}}</td>
<td>{{.JournalPayments}} = {{money .JournalPaymentSum .Currency}}</td><td>{{.JournalRefunds}} = {{money .JournalRefundSum .Currency}}</td>
<td>{{money .NetSettlement .Currency}}</td><td>{{.OtherTillRecs}} = {{money .OtherTillNet .Currency}}</td></tr>{{end}}</table>
<h2>Items</h2><table><tr><th>class</th><th>type</th><th>key</th><th>amount</th><th>fee</th><th>file:line</th><th>journal op</th><th>state</th><th>what to do</th></tr>
{{range .Items}}<tr class="{{if .Class.Exception}}x{{else}}ok{{end}}"><td>{{.Class}}</td><td>{{.Type}}</td><td>{{.Key}}</td>
<td>{{money .Amount .Currency}} {{.Currency}}</td><td>{{money .Fee .Currency}}</td><td>{{.File}}:{{.Line}}</td>
<td>{{.OpID}} {{.Lane}} {{.Ref}}</td><td>{{.State}}</td><td>{{.Detail}}</td></tr>{{end}}</table>
</body></html>
`))

// WriteHTML writes the report as one self-contained HTML page.
func WriteHTML(w io.Writer, r *Report) error {
	if err := htmlPage.Execute(w, r); err != nil {
		return fmt.Errorf("recon: write html: %w", err)
	}
	return nil
}
