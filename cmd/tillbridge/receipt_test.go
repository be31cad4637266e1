package main

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/receipt"
	"github.com/tillbridge/tillbridge/ecrproto"
)

func TestReceiptPreviewSample(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.png")
	code, stdout, stderr := run(t, "receipt", "preview", "--sample", "--width", "58", "--out", out, "--text")
	if code != exitOK {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"EUR 32.50", "2025030122001412345678901234", "[QR M: T-20250301-0042]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
	img := readPNG(t, out)
	if w := img.Bounds().Dx(); w != 384+32 {
		t.Fatalf("58 mm preview is %d px wide", w)
	}
}

// TestReceiptPreviewNoArguments: `receipt preview` alone prints the
// sample ticket receipt as text, so a newcomer sees what a receipt is.
func TestReceiptPreviewNoArguments(t *testing.T) {
	for _, args := range [][]string{{"receipt", "preview"}, {"receipt", "preview", "--text"}, {"receipt", "preview", "--sample"}} {
		code, stdout, stderr := run(t, args...)
		if code != exitOK {
			t.Fatalf("%v: code %d, stderr %q", args, code, stderr)
		}
		for _, want := range []string{"EUR 32.50", "[QR M: T-20250301-0042]"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: text lacks %q:\n%s", args, want, stdout)
			}
		}
	}
}

// TestReceiptPreviewOfPrinterFile is the sandbox flow: a sale printed to
// a file-backed printer, previewed from the file.
func TestReceiptPreviewOfPrinterFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "printer.bin")
	prof, _ := escpos.LookupProfile("generic-80")
	p, err := escpos.NewPrinter(escpos.PrinterConfig{Name: "sandbox", Profile: prof, Open: devices.FileOpener(path), OneWay: true})
	if err != nil {
		t.Fatal(err)
	}
	r := receipt.Sample()
	r.Amount, r.Currency, r.TransID = 1200, "JPY", "2025030122009999"
	if err := p.Print(ctx, receipt.Render(prof, r)); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "receipt", "preview", "--in", path, "--text")
	if code != exitOK {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"JPY 1,200", "2025030122009999", "[QR M: " + r.Ref + "]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("preview lacks %q:\n%s", want, stdout)
		}
	}
}

func TestReceiptPreviewUsage(t *testing.T) {
	for _, args := range [][]string{
		{"receipt"},
		{"receipt", "print"},
		{"receipt", "preview", "--sample", "--in", "x", "--text"},
		{"receipt", "preview", "--sample", "--text", "--width", "76"},
		{"receipt", "preview", "--sample", "--text", "--profile", "nope"},
		{"receipt", "preview", "--sample", "--text", "--kind", "nope"},
	} {
		if code, _, _ := run(t, args...); code != exitUsage {
			t.Errorf("%v: code %d, want usage (%d)", args, code, exitUsage)
		}
	}
}

func TestReceiptPreviewSaleHook(t *testing.T) {
	lookup := func(ctx context.Context, lane, ref string) (control.SaleReceipt, error) {
		if ref != "T-7" {
			return control.SaleReceipt{}, errors.New("no such sale")
		}
		r := receipt.Sample()
		r.Ref = ref
		return control.SaleReceipt{Lane: lane, Ref: ref, Receipt: r}, nil
	}
	var out, errb bytes.Buffer
	err := receiptCommandWith(lookup).run(context.Background(), cmdIO{strings.NewReader(""), &out, &errb}, []string{"preview", "--sale", "T-7", "--text"})
	if err != nil || !strings.Contains(out.String(), "T-7") {
		t.Fatalf("wired --sale: %v\n%s", err, out.String())
	}
}

// TestReceiptPreviewOfJournaledSale previews a sale the running daemon
// made, through the control API: the picture decodes, and the text holds
// the amount, Alipay's transaction id and the ref.
func TestReceiptPreviewOfJournaledSale(t *testing.T) {
	tl := startTill(t)
	res := tl.sale("1", "RP-1", "281234567890123400")
	if res.Status != ecrproto.StatusApproved || res.AlipayTransID == "" {
		t.Fatalf("sale: %+v", res)
	}
	png1 := filepath.Join(t.TempDir(), "r.png")
	code, out, errOut := tl.cli("receipt", "preview", "--sale", "RP-1", "--lane", "1", "--out", png1, "--text")
	if code != exitOK {
		t.Fatalf("receipt preview --sale: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"HKD 12.50", res.AlipayTransID, "RP-1", "[QR M: RP-1]"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "281234567890123400") {
		t.Errorf("preview shows the full customer code:\n%s", out)
	}
	if img := readPNG(t, png1); img.Bounds().Dx() < 576 || img.Bounds().Dy() < 200 {
		t.Fatalf("picture: %v", img.Bounds())
	}
	for _, c := range []struct {
		args []string
		exit int
		want string
	}{
		{[]string{"--sale", "NOPE", "--lane", "1", "--text"}, exitFailure, "no sale"},
		{[]string{"--sale", "RP-1", "--text"}, exitUsage, "which lane"},
		{[]string{"--sale", "RP-1", "--lane", "9", "--text"}, exitFailure, "no lane"},
		{[]string{"--sample", "--lane", "1", "--text"}, exitUsage, "--lane goes with --sale"},
	} {
		code, out, errOut := tl.cli(append([]string{"receipt", "preview"}, c.args...)...)
		if code != c.exit || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", c.args, code, c.exit, c.want, out, errOut)
		}
	}
	tl.Stop()
	if code, _, errOut := tl.cli("receipt", "preview", "--sale", "RP-1", "--lane", "1", "--text"); code != exitNoDaemon ||
		!strings.Contains(errOut, "not running") {
		t.Fatalf("daemon stopped: exit %d %s", code, errOut)
	}
}

// readPNG decodes the PNG file at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
