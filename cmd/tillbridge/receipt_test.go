package main

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/receipt"
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
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w != 384+32 {
		t.Fatalf("58 mm preview is %d px wide", w)
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
		{"receipt", "preview", "--text"},
		{"receipt", "preview", "--sample", "--in", "x", "--text"},
		{"receipt", "preview", "--sample"},
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
	code, _, stderr := run(t, "receipt", "preview", "--sale", "T-1", "--text")
	if code != exitFailure || !strings.Contains(stderr, "journal") {
		t.Fatalf("unwired --sale: code %d, stderr %q", code, stderr)
	}
	lookup := func(ctx context.Context, ref string) (receipt.Receipt, error) {
		if ref != "T-7" {
			return receipt.Receipt{}, errors.New("no such sale")
		}
		r := receipt.Sample()
		r.Ref = ref
		return r, nil
	}
	var out, errb bytes.Buffer
	err := receiptCommandWith(lookup).run(context.Background(), cmdIO{strings.NewReader(""), &out, &errb}, []string{"preview", "--sale", "T-7", "--text"})
	if err != nil || !strings.Contains(out.String(), "T-7") {
		t.Fatalf("wired --sale: %v\n%s", err, out.String())
	}
}
