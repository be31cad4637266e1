package queue

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"
)

// TestExportCSVNeutralisesFormulas: refs (from the ECR) and lanes that a
// spreadsheet would run as formulas come out of the CSV export prefixed
// with a single quote; other cells, the amount and the JSON export are
// unchanged.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	if exportColumns()[amountColumn] != "amount" {
		t.Fatalf("amountColumn %d is %q", amountColumn, exportColumns()[amountColumn])
	}
	h := newHarness(t)
	ctx := context.Background()
	refs := map[string]string{
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+1+2":                       "'+1+2",
		"-2+3":                       "'-2+3",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\tTAB":                      "'\tTAB",
		"\rCR":                       "'\rCR",
		"T-9=ok":                     "T-9=ok",
	}
	var order []string
	for ref := range refs {
		if _, err := h.e.SubmitSale(ctx, Sale{Lane: "1", Ref: ref, Amount: 100, Currency: "HKD"}); err != nil {
			t.Fatalf("SubmitSale %q: %v", ref, err)
		}
		order = append(order, ref)
		h.clk.Advance(time.Millisecond)
	}
	var buf bytes.Buffer
	if err := h.e.Export(ctx, &buf, testStart, testStart.Add(time.Hour), ExportCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != len(refs)+1 {
		t.Fatalf("csv: %d rows, %v\n%s", len(rows), err, buf.String())
	}
	for i, ref := range order {
		row := rows[i+1]
		if row[3] != refs[ref] {
			t.Errorf("ref %q exported as %q, want %q", ref, row[3], refs[ref])
		}
		if row[9] != "100" || row[2] != "1" {
			t.Errorf("ref %q: amount %q lane %q changed", ref, row[9], row[2])
		}
	}
	buf.Reset()
	if err := h.e.Export(ctx, &buf, testStart, testStart.Add(time.Hour), ExportJSON); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"ref":"@SUM(A1)"`)) {
		t.Errorf("JSON export altered a ref: %s", buf.String())
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{"": "", "=1": "'=1", "a=1": "a=1", "-": "'-", "2088": "2088",
		"'=1": "'=1"} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}
