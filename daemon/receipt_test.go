package daemon_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/devices/preview"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// printedText is the text of lane's file-backed receipt printer output.
func printedText(t *testing.T, e *env, lane string) (preview.Document, string) {
	t.Helper()
	job, err := os.ReadFile(filepath.Join(e.Dir, "receipts", "lane-"+lane+".escpos"))
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
	e := startCtlEnv(t)
	res := e.Sale("1", "RR-1", sandboxCode(0, 51), nil)
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
	c, err := ecrproto.Dial(e.Ctx(), "tcp", e.ECR, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Do(e.Ctx(), &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: "1", Ref: "RR-1"})
	if err != nil || st.Receipt != res.Receipt {
		t.Fatalf("STATUS receipt differs: %v\n--- STATUS\n%s--- SALE\n%s", err, st.Receipt, res.Receipt)
	}
}

// TestSandboxSalePrintsTicketReceipt is issue 5's "done when": a sandbox
// sale on a lane with a file-backed printer (backend "file") writes ESC/POS
// bytes whose preview shows the amount, Alipay's transaction id and the
// ticket QR, whose GS ( k store payload is the ticket ref; the picture
// renders with the QR drawn.
func TestSandboxSalePrintsTicketReceipt(t *testing.T) {
	e := startCtlEnv(t)
	if b := e.Config.Printers[e.Config.Lanes[0].Printer].Backend; b != "file" {
		t.Fatalf("lane 1's printer backend is %q, want file", b)
	}
	const ref = "TICKET-0042"
	res := e.Sale("1", ref, sandboxCode(0, 52), nil)
	if res.Status != ecrproto.StatusApproved || res.AlipayTransID == "" {
		t.Fatalf("sale: %+v", res)
	}
	job, err := os.ReadFile(filepath.Join(e.Dir, "receipts", "lane-1.escpos"))
	if err != nil {
		t.Fatal(err)
	}
	// The raw GS ( k "store" command (fn 80) carries exactly the ref.
	n := len(ref) + 3
	store := append([]byte{0x1d, '(', 'k', byte(n), byte(n >> 8), 0x31, 0x50, 0x30}, ref...)
	if !bytes.Contains(job, store) {
		t.Fatalf("no GS ( k store of %q in the job", ref)
	}
	doc, text := printedText(t, e, "1")
	for _, want := range []string{"HKD 12.50", res.AlipayTransID, ref} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed receipt lacks %q:\n%s", want, text)
		}
	}
	var qrs []string
	for _, b := range doc.Blocks {
		if b.Kind == preview.QRCode {
			qrs = append(qrs, b.Data)
		}
	}
	if len(qrs) != 1 || qrs[0] != ref {
		t.Fatalf("QR codes on the receipt: %q, want one holding %q", qrs, ref)
	}
	img := preview.Render(doc, preview.RenderOptions{WidthDots: 576})
	dark := 0
	for _, p := range img.Pix {
		if p < 128 {
			dark++
		}
	}
	if img.Bounds().Dx() < 576 || dark == 0 {
		t.Fatalf("picture %v with %d dark pixels", img.Bounds(), dark)
	}
}
