package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/preview"
	"github.com/tillbridge/tillbridge/devices/receipt"
)

// saleReceiptFunc returns the receipt of a journaled sale by its ECR ref.
// The daemon provides it; see receiptCommandWith.
type saleReceiptFunc func(ctx context.Context, ref string) (receipt.Receipt, error)

// receiptCommand is `tillbridge receipt`, without journal access: --sale
// reports that it is not available. The daemon wiring replaces this with
// receiptCommandWith(its journal lookup).
func receiptCommand() command { return receiptCommandWith(nil) }

// receiptCommandWith is `tillbridge receipt` with a journal lookup for
// --sale (nil: not available).
func receiptCommandWith(lookup saleReceiptFunc) command {
	return command{
		name:    "receipt",
		summary: "preview receipts: render ESC/POS bytes as a picture or text",
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			if len(args) == 0 || args[0] != "preview" {
				fmt.Fprintln(cio.stderr, "usage: tillbridge receipt preview [--in job.bin | --sample | --sale REF] [--width 80|58] [--profile NAME] [--out receipt.png] [--text]")
				return usageErr(errors.New("missing or unknown subcommand (want: preview)"))
			}
			return receiptPreview(ctx, cio, args[1:], lookup)
		},
	}
}

// previewFlags are the flags of `tillbridge receipt preview`.
type previewFlags struct {
	in, sale, kind, profile, out string
	sample, text                 bool
	width                        int
}

func parsePreviewFlags(cio cmdIO, args []string) (previewFlags, error) {
	var f previewFlags
	fs := flag.NewFlagSet("receipt preview", flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.StringVar(&f.in, "in", "", "ESC/POS job file to preview (e.g. a file-backed printer's output)")
	fs.BoolVar(&f.sample, "sample", false, "preview a sample ticket receipt")
	fs.StringVar(&f.kind, "kind", "sale", "with --sample: sale, declined, cancelled or refunded")
	fs.StringVar(&f.sale, "sale", "", "preview the receipt of the journaled sale with this ECR ref")
	fs.StringVar(&f.profile, "profile", "generic-80", "printer profile (see docs/devices.md)")
	fs.IntVar(&f.width, "width", 0, "paper width in mm, 58 or 80 (default: the profile's)")
	fs.StringVar(&f.out, "out", "", "write the picture to this PNG file")
	fs.BoolVar(&f.text, "text", false, "print the decoded text to standard output")
	if err := fs.Parse(args); err != nil {
		return f, usageErr(err)
	}
	sources := 0
	for _, set := range []bool{f.in != "", f.sample, f.sale != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return f, usageErr(errors.New("give exactly one of --in, --sample or --sale"))
	}
	if f.out == "" && !f.text {
		return f, usageErr(errors.New("give --out FILE.png, --text, or both"))
	}
	return f, nil
}

func receiptPreview(ctx context.Context, cio cmdIO, args []string, lookup saleReceiptFunc) error {
	f, err := parsePreviewFlags(cio, args)
	if err != nil {
		return err
	}
	prof, err := escpos.LookupProfile(f.profile)
	if err != nil {
		return usageErr(err)
	}
	if f.width != 0 {
		if prof, err = prof.WithPaperWidth(f.width); err != nil {
			return usageErr(err)
		}
	}
	job, err := previewJob(ctx, f, prof, lookup)
	if err != nil {
		return err
	}
	return writePreview(cio, job, prof, f.out, f.text)
}

// previewJob returns the ESC/POS bytes to preview.
func previewJob(ctx context.Context, f previewFlags, prof escpos.Profile, lookup saleReceiptFunc) ([]byte, error) {
	switch {
	case f.in != "":
		return os.ReadFile(f.in)
	case f.sale != "":
		if lookup == nil {
			return nil, errors.New("--sale needs the daemon's journal, which this build does not wire in yet; use --in with the printer's output file")
		}
		r, err := lookup(ctx, f.sale)
		if err != nil {
			return nil, fmt.Errorf("sale %q: %w", f.sale, err)
		}
		return receipt.Render(prof, r), nil
	}
	r := receipt.Sample()
	switch receipt.Kind(f.kind) {
	case receipt.Sale, receipt.Declined, receipt.Cancelled, receipt.Refunded:
		r.Kind = receipt.Kind(f.kind)
	default:
		return nil, usageErr(fmt.Errorf("unknown --kind %q", f.kind))
	}
	if r.Kind == receipt.Declined || r.Kind == receipt.Cancelled {
		r.Reason = "Buyer balance not enough (BUYER_BALANCE_NOT_ENOUGH)"
		r.Footer = nil
	}
	return receipt.Render(prof, r), nil
}

// writePreview decodes job and writes the PNG and/or text. It is the hook
// for anything holding a Receipt: render it with receipt.Render first.
func writePreview(cio cmdIO, job []byte, prof escpos.Profile, out string, text bool) error {
	doc := preview.Decode(job, preview.Options{Chinese: prof.Encoding == escpos.GB18030})
	if text {
		fmt.Fprint(cio.stdout, preview.Text(doc, prof.Columns))
	}
	if out == "" {
		return nil
	}
	var buf bytes.Buffer
	if err := preview.WritePNG(&buf, doc, preview.RenderOptions{WidthDots: prof.WidthDots}); err != nil {
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if !text {
		fmt.Fprintf(cio.stdout, "wrote %s\n", out)
	}
	return nil
}
