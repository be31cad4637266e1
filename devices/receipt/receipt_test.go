package receipt

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/preview"
)

func profile(t *testing.T, name string, mm int) escpos.Profile {
	t.Helper()
	p, err := escpos.LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	if mm != 0 {
		if p, err = p.WithPaperWidth(mm); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// decode renders r and reads the printed bytes back as text lines.
func decode(t *testing.T, p escpos.Profile, r Receipt) (preview.Document, []string) {
	t.Helper()
	job := Render(p, r)
	doc := preview.Decode(job, preview.Options{})
	if doc.Unknown != 0 {
		t.Fatalf("decoder met %d unknown commands", doc.Unknown)
	}
	return doc, strings.Split(preview.Text(doc, p.Columns), "\n")
}

func TestSaleReceiptLayouts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    escpos.Profile
	}{
		{"80mm", profile(t, "generic-80", 0)},
		{"58mm", profile(t, "generic-58", 0)},
		{"80mm set to 58 by config", profile(t, "generic-80", 58)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Sample()
			doc, lines := decode(t, tc.p, r)
			text := strings.Join(lines, "\n")
			for _, want := range []string{"City Museum", "TICKET RECEIPT", "lane-1", "T-20250301-0042",
				"EUR 32.50", "2025030122001412345678901234", "abc***@163.com", "CNY 253.40", "7.7969",
				"2025-03-01 10:15:30", "2 x Adult ticket", "Thank you for your visit!"} {
				if !strings.Contains(text, want) {
					t.Errorf("receipt lacks %q:\n%s", want, text)
				}
			}
			for _, l := range lines {
				if w := len([]rune(l)); w > tc.p.Columns {
					t.Errorf("line %q is %d columns on %d-column paper", l, w, tc.p.Columns)
				}
			}
			var qr, cuts int
			for _, b := range doc.Blocks {
				switch b.Kind {
				case preview.QRCode:
					qr++
					if b.Data != r.Ref {
						t.Errorf("QR data %q, want the ticket ref", b.Data)
					}
				case preview.CutMark:
					cuts++
				case preview.DrawerKick:
					t.Error("a receipt must never kick the drawer (a reprint would open it again)")
				}
			}
			if qr != 1 {
				t.Errorf("%d QR codes, want 1", qr)
			}
			if tc.p.Cutter && cuts != 1 {
				t.Errorf("%d cuts, want 1", cuts)
			}
		})
	}
}

func TestSlips(t *testing.T) {
	t.Parallel()
	p := profile(t, "generic-58", 0)
	base := Sample()
	tests := []struct {
		kind    Kind
		reason  string
		want    []string
		wantQR  bool
		wantNot []string
	}{
		{Declined, "BUYER_BALANCE_NOT_ENOUGH", []string{"PAYMENT DECLINED", "BUYER_BALANCE_NOT_ENOUGH", "Nothing", "T-20250301-0042"}, false, []string{"Paid with Alipay"}},
		{Cancelled, "timeout, cancelled", []string{"PAYMENT CANCELLED", "timeout, cancelled", "reversed"}, false, []string{"Paid with Alipay"}},
		{Refunded, "", []string{"REFUND", "REFUNDED", "EUR 32.50", "Refund id", "R-1"}, true, []string{"Paid with Alipay"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			r := base
			r.Kind, r.Reason, r.RefundID = tt.kind, tt.reason, ""
			if tt.kind == Refunded {
				r.RefundID = "R-1"
			}
			doc, lines := decode(t, p, r)
			text := strings.Join(lines, "\n")
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("slip lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(text, w) {
					t.Errorf("slip must not say %q:\n%s", w, text)
				}
			}
			hasQR := false
			for _, b := range doc.Blocks {
				hasQR = hasQR || b.Kind == preview.QRCode
			}
			if hasQR != tt.wantQR {
				t.Errorf("QR present = %v, want %v", hasQR, tt.wantQR)
			}
		})
	}
}

func TestCopyAndNoQR(t *testing.T) {
	t.Parallel()
	r := Sample()
	r.Copy, r.NoQR = true, true
	doc, lines := decode(t, profile(t, "generic-80", 0), r)
	if !strings.Contains(strings.Join(lines, "\n"), "*** COPY ***") {
		t.Error("reprint not marked as a copy")
	}
	for _, b := range doc.Blocks {
		if b.Kind == preview.QRCode {
			t.Error("NoQR printed a QR code")
		}
	}
}

func TestChineseLabelsGB18030(t *testing.T) {
	t.Parallel()
	p := profile(t, "xprinter-58", 0)
	r := Sample()
	r.Header = []string{"城市博物馆", "布鲁塞尔博物馆广场1号"}
	r.Labels = Labels{SaleTitle: "购票收据", Total: "合计", TransID: "支付宝交易号", Ref: "票号"}.withDefaults()
	r.Footer = []string{"谢谢光临"}
	job := Render(p, r)
	if !bytes.Contains(job, []byte{0x1c, '&'}) {
		t.Fatal("GB18030 profile did not select Chinese mode")
	}
	_, lines := decode(t, p, r)
	text := strings.Join(lines, "\n")
	for _, want := range []string{"城市博物馆", "购票收据", "合计", "EUR 32.50", "支付宝交易号", "谢谢光临"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
}

func TestRenderRejectsNothing(t *testing.T) {
	t.Parallel()
	r := Receipt{Kind: Sale, QR: strings.Repeat("x", 5000), Time: time.Time{}}
	job := Render(profile(t, "generic-80", 0), r)
	if len(job) == 0 {
		t.Fatal("empty job")
	}
	doc := preview.Decode(job, preview.Options{})
	for _, b := range doc.Blocks {
		if b.Kind == preview.QRCode {
			t.Fatal("oversized QR data should be printed as text only")
		}
	}
}
