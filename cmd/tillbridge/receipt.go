package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/preview"
	"github.com/tillbridge/tillbridge/devices/receipt"
)

// saleReceiptFunc returns the receipt of a journaled sale by its lane ("":
// the only lane) and ECR ref. By default it asks the running daemon through
// the control API; tests may pass their own (receiptCommandWith).
type saleReceiptFunc func(ctx context.Context, lane, ref string) (control.SaleReceipt, error)

// receiptCommand is `tillbridge receipt`; --sale asks the running daemon.
func receiptCommand() command { return receiptCommandWith(nil) }

const receiptUsage = `usage: tillbridge receipt preview (--in job.bin | --sample [--kind K] | --sale REF [--lane L])
           [--profile NAME] [--width 80|58] (--out receipt.png | --text)...
           [--config FILE | --data DIR | --socket ADDR]

Without arguments it prints the sample ticket receipt as text.

Renders ESC/POS bytes as a picture (PNG) or as text: a printer's output file
(--in), a sample ticket receipt (--sample), or the receipt of a sale in the
running daemon's journal (--sale), laid out by the same code that prints it,
for the lane's printer profile unless --profile or --width is given. --lane
may be left out when there is only one lane.

Exit codes: 0 written; 1 no such sale, or it has no receipt (not final,
voided, manual); 2 bad flags; 3 (--sale) the daemon is not running; 4 the
daemon is still starting.

Examples:
  tillbridge receipt preview --sample --width 58 --out sample.png
  tillbridge receipt preview --sale T-0042 --lane 1 --out r.png --text
`

// receiptCommandWith is `tillbridge receipt` with lookup answering --sale
// (nil: the running daemon's control API).
func receiptCommandWith(lookup saleReceiptFunc) command {
	return command{
		name:    "receipt",
		summary: "preview receipts (a printer file, a sample, or a journaled sale) as a picture or text",
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			if len(args) == 0 || args[0] != "preview" {
				fmt.Fprint(cio.stderr, receiptUsage)
				return usageErr(errors.New("missing or unknown subcommand (want: preview)"))
			}
			return receiptPreview(ctx, cio, args[1:], lookup)
		},
	}
}

// previewFlags are the flags of `tillbridge receipt preview`.
type previewFlags struct {
	in, sale, lane, kind, profile, out string
	sample, text                       bool
	width                              int
	ctl                                ctlFlags
}

func parsePreviewFlags(cio cmdIO, args []string) (previewFlags, error) {
	var f previewFlags
	fs := flag.NewFlagSet("receipt preview", flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() {
		fmt.Fprint(cio.stderr, receiptUsage)
		fmt.Fprintln(cio.stderr, "\n"+ctlFlagsHelp+"\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.in, "in", "", "ESC/POS job file to preview (e.g. a file-backed printer's output)")
	fs.BoolVar(&f.sample, "sample", false, "preview a sample ticket receipt")
	fs.StringVar(&f.kind, "kind", "sale", "with --sample: sale, declined, cancelled or refunded")
	fs.StringVar(&f.sale, "sale", "", "preview the receipt of the journaled sale with this ECR `ref` (asks the running daemon)")
	fs.StringVar(&f.lane, "lane", "", "with --sale: the sale's `lane` (default: the only lane)")
	fs.StringVar(&f.profile, "profile", "generic-80", "printer profile (see docs/devices.md; --sale: default the lane's)")
	fs.IntVar(&f.width, "width", 0, "paper width in mm, 58 or 80 (default: the profile's)")
	fs.StringVar(&f.out, "out", "", "write the picture to this PNG file")
	fs.BoolVar(&f.text, "text", false, "print the decoded text to standard output")
	f.ctl.registerTarget(fs)
	if err := parseCtl(fs, args, false); err != nil {
		return f, err
	}
	sources := 0
	for _, set := range []bool{f.in != "", f.sample, f.sale != ""} {
		if set {
			sources++
		}
	}
	if sources == 0 {
		f.sample = true // no source: the sample ticket receipt
	}
	if sources > 1 {
		return f, usageErr(errors.New("give one of --in, --sample or --sale"))
	}
	if f.lane != "" && f.sale == "" {
		return f, usageErr(errors.New("--lane goes with --sale"))
	}
	if f.out == "" && !f.text {
		f.text = true // no output chosen: the text on standard output
	}
	return f, nil
}

func receiptPreview(ctx context.Context, cio cmdIO, args []string, lookup saleReceiptFunc) error {
	f, err := parsePreviewFlags(cio, args)
	if err != nil {
		return err
	}
	prof, err := previewProfile(f.profile, f.width)
	if err != nil {
		return err
	}
	var job []byte
	if f.sale != "" {
		job, prof, err = saleJob(ctx, f, prof, lookup)
	} else {
		job, err = previewJob(f, prof)
	}
	if err != nil {
		return err
	}
	return writePreview(cio, job, prof, f.out, f.text)
}

// previewProfile looks up the profile name with the paper width (0: the
// profile's).
func previewProfile(name string, width int) (escpos.Profile, error) {
	prof, err := escpos.LookupProfile(name)
	if err != nil {
		return prof, usageErr(err)
	}
	if width != 0 {
		if prof, err = prof.WithPaperWidth(width); err != nil {
			return prof, usageErr(err)
		}
	}
	return prof, nil
}

// saleJob renders the journaled sale's receipt: for the lane's printer
// profile, unless --profile or --width chose one (prof).
func saleJob(ctx context.Context, f previewFlags, prof escpos.Profile, lookup saleReceiptFunc) ([]byte, escpos.Profile, error) {
	if lookup == nil {
		cl, _ := f.ctl.client()
		defer cl.Close()
		lookup = cl.SaleReceipt
	}
	cctx, cancel := ctlContext(ctx, 30*time.Second)
	defer cancel()
	sr, err := lookup(cctx, f.lane, f.sale)
	if err != nil {
		return nil, prof, ctlErr(err)
	}
	if !f.ctl.isSet("profile") && !f.ctl.isSet("width") && sr.Profile.Validate() == nil {
		prof = sr.Profile
	}
	return receipt.Render(prof, sr.Receipt), prof, nil
}

// previewJob returns the ESC/POS bytes of --in or --sample.
func previewJob(f previewFlags, prof escpos.Profile) ([]byte, error) {
	if f.in != "" {
		return os.ReadFile(f.in)
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
