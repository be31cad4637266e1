package preview

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"
	"github.com/tillbridge/tillbridge/devices/escpos"
)

func profile(t *testing.T, name string) escpos.Profile {
	t.Helper()
	p, err := escpos.LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecodeEncoderOutput(t *testing.T) {
	p := profile(t, "generic-80")
	job, err := escpos.NewEncoder(p).Init().
		Align(escpos.AlignCenter).Bold(true).Size(2, 2).Line("BIG").Normal().
		Align(escpos.AlignLeft).Underline(escpos.UnderlineThin).Text("u").Underline(0).Line(" plain €").
		QR("T-1", escpos.QROptions{ModuleSize: 4, Level: escpos.QRLevelH}).
		Code128("AB{1", escpos.BarcodeOptions{Height: 50}).
		Feed(2).DrawerKick(escpos.DrawerPin2, 50*time.Millisecond, 500*time.Millisecond).
		Cut(escpos.CutFull, 0).Job()
	if err != nil {
		t.Fatal(err)
	}
	job = append(job, escpos.StatusRequest(1)...)
	doc := Decode(job, Options{})
	if doc.Unknown != 0 || doc.StatusRequests != 1 {
		t.Fatalf("unknown %d, status requests %d", doc.Unknown, doc.StatusRequests)
	}
	var kinds []Kind
	for _, b := range doc.Blocks {
		kinds = append(kinds, b.Kind)
	}
	want := []Kind{TextLine, TextLine, QRCode, Barcode, TextLine, TextLine, DrawerKick, CutMark} // ESC d 2: two blank lines
	if len(kinds) != len(want) {
		t.Fatalf("blocks %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("blocks %v, want %v", kinds, want)
		}
	}
	big := doc.Blocks[0]
	if big.Align != escpos.AlignCenter || big.Spans[0].Text != "BIG" || !big.Spans[0].Bold || big.Spans[0].Width != 2 || big.Spans[0].Height != 2 {
		t.Errorf("big line = %+v", big)
	}
	mixed := doc.Blocks[1]
	if len(mixed.Spans) != 2 || mixed.Spans[0].Underline != 1 || mixed.Spans[1].Text != " plain €" || mixed.Spans[1].Underline != 0 {
		t.Errorf("mixed line = %+v", mixed)
	}
	if qr := doc.Blocks[2]; qr.Data != "T-1" || qr.QRModule != 4 || qr.QRLevel != 'H' {
		t.Errorf("qr = %+v", qr)
	}
	if bc := doc.Blocks[3]; bc.Symbology != "CODE128" || bc.Data != "AB{1" || bc.BarHeight != 50 || bc.HRI != 2 {
		t.Errorf("barcode = %+v", bc)
	}
	if dk := doc.Blocks[6]; dk.DrawerPin != 2 || dk.DrawerOn != 50*time.Millisecond || dk.DrawerOff != 500*time.Millisecond {
		t.Errorf("drawer = %+v", dk)
	}
	if c := doc.Blocks[7]; c.Cut != escpos.CutFull {
		t.Errorf("cut = %+v", c)
	}
	text := Text(doc, 48)
	for _, w := range []string{"BIG", "u plain €", "[QR H: T-1]", "[CODE128: AB{1]", "pin 2", "--- cut ---"} {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q:\n%s", w, text)
		}
	}
}

func TestDecodeEncodings(t *testing.T) {
	tests := []struct {
		profile string
		opts    Options
		text    string
	}{
		{"generic-80", Options{}, "Café €5"},
		{"generic-80-cp437", Options{}, "Café"},
		{"xprinter-58", Options{}, "票 ticket 门票"},
		{"epson-tm-t88", Options{}, "票 Café €"},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			job, _ := escpos.NewEncoder(profile(t, tt.profile)).Init().Line(tt.text).Job()
			doc := Decode(job, tt.opts)
			if len(doc.Blocks) != 1 || doc.Blocks[0].Text() != tt.text {
				t.Fatalf("decoded %+v, want %q", doc.Blocks, tt.text)
			}
		})
	}
	// A Chinese printer's power-on mode: GB18030 without FS &.
	gb := []byte{0xc6, 0xb1, '\n'}
	if got := Decode(gb, Options{Chinese: true}).Blocks[0].Text(); got != "票" {
		t.Fatalf("power-on Chinese mode decoded %q", got)
	}
}

func TestDecodeNeverPanicsOnTruncation(t *testing.T) {
	job, _ := escpos.NewEncoder(profile(t, "generic-80")).Init().Line("abc").
		QR("data", escpos.QROptions{}).Code128("X", escpos.BarcodeOptions{}).
		DrawerKick(5, 100*time.Millisecond, 100*time.Millisecond).Cut(escpos.CutPartial, 3).Job()
	job = append(job, 0x1d, 'v', '0', 0, 1, 0, 2, 0, 0xff, 0xff, 0x1b, '*', 33, 1, 0, 1, 2, 3, 0x1d, '8', 'L', 0xff, 0xff, 0xff, 0x7f)
	for i := 0; i <= len(job); i++ {
		Decode(job[:i], Options{})
	}
}

func FuzzDecode(f *testing.F) {
	job, _ := escpos.NewEncoder(escpos.Profile{Columns: 48, WidthDots: 576, Encoding: escpos.PC858, CodePage: 19, QR: true, Cutter: true}).
		Init().Line("x").QR("q", escpos.QROptions{}).Cut(escpos.CutFull, 0).Job()
	f.Add(job)
	f.Fuzz(func(t *testing.T, b []byte) {
		doc := Decode(b, Options{})
		_ = Text(doc, 32)
		if len(b) < 2000 {
			_ = Render(doc, RenderOptions{})
		}
	})
}

func TestRenderPNG(t *testing.T) {
	p := profile(t, "generic-80")
	job, _ := escpos.NewEncoder(p).Init().Align(escpos.AlignCenter).Size(2, 2).Line("TOTAL EUR 32.50").Normal().
		QR("T-20250301-0042", escpos.QROptions{ModuleSize: 6, Level: escpos.QRLevelM}).
		Code128("T-1", escpos.BarcodeOptions{}).Cut(escpos.CutPartial, 0).Job()
	doc := Decode(job, Options{})
	var buf bytes.Buffer
	if err := WritePNG(&buf, doc, RenderOptions{WidthDots: p.WidthDots}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	size := Size(doc, RenderOptions{WidthDots: p.WidthDots})
	if b := img.Bounds(); b.Dx() != 576+2*16 || b.Dx() != size.X || b.Dy() != size.Y {
		t.Fatalf("PNG size %v, want %v (576 dots + margins)", b.Size(), size)
	}
	if os.Getenv("PREVIEW_OUT") != "" {
		os.WriteFile(filepath.Join(os.Getenv("PREVIEW_OUT"), "render-test.png"), buf.Bytes(), 0o644)
	}

	// The QR code is drawn module for module from the stored data: every
	// module centre has the colour go-qrcode computes for the same data.
	q, err := qrcode.New("T-20250301-0042", qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	bm := q.Bitmap()
	const module = 6
	top := 16 + (CellHeight*2 + LineSpacing - CellHeight) // margin + the double-height line
	left := 16 + (576-len(bm)*module)/2
	dark := 0
	for j, row := range bm {
		for i, on := range row {
			c := img.(*image.Gray).GrayAt(left+i*module+module/2, top+j*module+module/2).Y
			if on != (c < 128) {
				t.Fatalf("QR module (%d,%d): want dark=%v, pixel %d", i, j, on, c)
			}
			if on {
				dark++
			}
		}
	}
	if dark == 0 {
		t.Fatal("no dark QR modules")
	}
}

func TestRenderWidth58(t *testing.T) {
	doc := Decode([]byte("hello\n"), Options{})
	img := Render(doc, RenderOptions{WidthDots: 384})
	if img.Bounds().Dx() != 384+32 || img.Bounds().Dy() != 32+LineSpacing {
		t.Fatalf("size %v", img.Bounds().Size())
	}
	inked := false
	for y := 16; y < 16+CellHeight && !inked; y++ {
		for x := 16; x < 16+5*CellWidth; x++ {
			if img.GrayAt(x, y).Y < 128 {
				inked = true
				break
			}
		}
	}
	if !inked {
		t.Fatal("text was not drawn")
	}
}
