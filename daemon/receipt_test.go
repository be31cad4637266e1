package daemon_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/devices/preview"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// printedText is the text of lane's file-backed receipt printer output.
func printedText(t *testing.T, e *ctlEnv, lane string) (preview.Document, string) {
	t.Helper()
	job, err := os.ReadFile(filepath.Join(e.dir, "receipts", "lane-"+lane+".escpos"))
	if err != nil {
		t.Fatal(err)
	}
	doc := preview.Decode(job, preview.Options{})
	return doc, preview.Text(doc, 48)
}

// TestResultReceiptIsThePrintedReceipt: the RESULT's receipt text (of the
// SALE and of a later STATUS) is the text the printer printed, line for
// line, without the cut.
func TestResultReceiptIsThePrintedReceipt(t *testing.T) {
	e := startCtlEnv(t, ctlSetup{})
	res := e.sale("1", "RR-1", sandboxCode(0, 51), nil)
	if res.Status != ecrproto.StatusApproved || res.Receipt == "" {
		t.Fatalf("sale: %+v", res)
	}
	_, printed := printedText(t, e, "1")
	if !strings.HasPrefix(printed, res.Receipt) || strings.Contains(res.Receipt, "cut") {
		t.Fatalf("RESULT receipt is not the printed text:\n--- RESULT\n%s--- printed\n%s", res.Receipt, printed)
	}
	if rest := strings.TrimSpace(strings.TrimPrefix(printed, res.Receipt)); !strings.HasSuffix(rest, "cut ------------------") ||
		strings.Count(rest, "\n") != 0 {
		t.Fatalf("printed beyond the RESULT's text: %q", rest)
	}
	c, err := ecrproto.Dial(e.ctx(), "tcp", e.ecr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Do(e.ctx(), &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: "1", Ref: "RR-1"})
	if err != nil || st.Receipt != res.Receipt {
		t.Fatalf("STATUS receipt differs: %v\n--- STATUS\n%s--- SALE\n%s", err, st.Receipt, res.Receipt)
	}
}
