package escpos

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file\ngot:\n%s\nwant:\n%s", name, hex.Dump(got), hex.Dump(want))
	}
}

func mustProfile(t *testing.T, name string) Profile {
	t.Helper()
	p, err := LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sampleJob exercises every encoder command.
func sampleJob(p Profile) *Encoder {
	return NewEncoder(p).Init().
		Align(AlignCenter).Bold(true).Size(2, 2).Line("Museum 博物馆").Normal().
		Align(AlignLeft).Underline(UnderlineThin).Line("Ticket €12.50").Underline(UnderlineOff).
		DoubleWidth().Line("WIDE").DoubleHeight().Line("TALL").Normal().
		Text("no newline").LF().Feed(2).
		Align(AlignCenter).QR("T-0001", QROptions{ModuleSize: 5, Level: QRLevelQ}).LF().
		Code128("AB{12", BarcodeOptions{Height: 60}).LF().
		DrawerKick(DrawerPin5, 100*time.Millisecond, 500*time.Millisecond).
		Cut(CutPartial, 48)
}

func TestEncoderGolden(t *testing.T) {
	for _, name := range []string{"generic-80", "generic-58", "generic-80-cp437", "xprinter-58", "epson-tm-t88"} {
		t.Run(name, func(t *testing.T) {
			job, err := sampleJob(mustProfile(t, name)).Job()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "sample-"+name+".bin", job)
		})
	}
}

func TestEncoderCommands(t *testing.T) {
	p := mustProfile(t, "generic-80")
	tests := []struct {
		name string
		enc  *Encoder
		want []byte
	}{
		{"init pc858", NewEncoder(p).Init(), []byte{0x1b, '@', 0x1b, 't', 19}},
		{"init gb18030", NewEncoder(mustProfile(t, "xprinter-58")).Init(), []byte{0x1b, '@', 0x1c, '&'}},
		{"init utf-8", NewEncoder(mustProfile(t, "epson-tm-t88")).Init(), []byte{0x1b, '@', 0x1c, '(', 'C', 2, 0, 0x30, 2}},
		{"init cp437 on chinese printer cancels chinese mode", NewEncoder(Profile{Chinese: true, Encoding: CP437}).Init(), []byte{0x1b, '@', 0x1c, '.', 0x1b, 't', 0}},
		{"size clamps", NewEncoder(p).Size(9, 0), []byte{0x1d, '!', 0x70}},
		{"size 2x3", NewEncoder(p).Size(2, 3), []byte{0x1d, '!', 0x12}},
		{"bold", NewEncoder(p).Bold(true).Bold(false), []byte{0x1b, 'E', 1, 0x1b, 'E', 0}},
		{"underline thick", NewEncoder(p).Underline(UnderlineThick), []byte{0x1b, '-', 2}},
		{"align right", NewEncoder(p).Align(AlignRight), []byte{0x1b, 'a', 2}},
		{"feed", NewEncoder(p).Feed(3), []byte{0x1b, 'd', 3}},
		{"full cut", NewEncoder(p).Cut(CutFull, 10), []byte{0x1d, 'V', 65, 10}},
		{"no cutter feeds", NewEncoder(mustProfile(t, "generic-58")).Cut(CutFull, 10), []byte{0x1b, 'd', 4}},
		{"drawer pin 2 50/500ms", NewEncoder(p).DrawerKick(DrawerPin2, 50*time.Millisecond, 500*time.Millisecond), []byte{0x1b, 'p', 0, 25, 250}},
		{"drawer off raised to on", NewEncoder(p).DrawerKick(DrawerPin5, 200*time.Millisecond, 100*time.Millisecond), []byte{0x1b, 'p', 1, 100, 100}},
		{"pc858 euro", NewEncoder(p).Text("€é"), []byte{0xd5, 0x82}},
		{"cp437 no euro", NewEncoder(mustProfile(t, "generic-80-cp437")).Text("€é"), []byte{'?', 0x82}},
		{"gb18030", NewEncoder(mustProfile(t, "xprinter-58")).Text("A票"), []byte{'A', 0xc6, 0xb1}},
		{"utf-8", NewEncoder(mustProfile(t, "epson-tm-t88")).Text("票"), []byte("票")},
		{"controls stripped", NewEncoder(p).Text("a\x1bp\x00\x19\xfa\tb"), []byte("ap? b")}, // ESC, NUL, 0x19 dropped; the invalid byte 0xfa becomes '?',
		{"qr", NewEncoder(p).QR("AB", QROptions{}), []byte{
			0x1d, '(', 'k', 4, 0, 0x31, 0x41, 0x32, 0,
			0x1d, '(', 'k', 3, 0, 0x31, 0x43, 6,
			0x1d, '(', 'k', 3, 0, 0x31, 0x45, 49,
			0x1d, '(', 'k', 5, 0, 0x31, 0x50, 0x30, 'A', 'B',
			0x1d, '(', 'k', 3, 0, 0x31, 0x51, 0x30}},
		{"qr unsupported prints text", NewEncoder(Profile{Encoding: PC858, CodePage: 19}).QR("AB", QROptions{}), []byte("AB\n")},
		{"code128", NewEncoder(p).Code128("A{", BarcodeOptions{NoHRI: true}), []byte{
			0x1d, 'h', 80, 0x1d, 'w', 2, 0x1d, 'H', 0, 0x1d, 'k', 73, 5, '{', 'B', 'A', '{', '{'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.enc.Job()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got  % x\nwant % x", got, tt.want)
			}
		})
	}
}

func TestEncoderErrors(t *testing.T) {
	p := mustProfile(t, "generic-80")
	tests := []struct {
		name string
		enc  *Encoder
		want string
	}{
		{"drawer pin", NewEncoder(p).DrawerKick(3, 100*time.Millisecond, 100*time.Millisecond), "pin 3"},
		{"drawer pulse too long", NewEncoder(p).DrawerKick(2, time.Second, time.Second), "2..510 ms"},
		{"drawer without off time", NewEncoder(p).DrawerKick(2, 100*time.Millisecond, 0), "2..510 ms"},
		{"qr empty", NewEncoder(p).QR("", QROptions{}), "QR data length 0"},
		{"qr too long", NewEncoder(p).QR(strings.Repeat("1", 7090), QROptions{}), "QR data length 7090"},
		{"code128 non-ascii", NewEncoder(p).Code128("é", BarcodeOptions{}), "printable ASCII"},
		{"code128 too long", NewEncoder(p).Code128(strings.Repeat("A", 254), BarcodeOptions{}), "1..253"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.enc.Job()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestProfiles(t *testing.T) {
	for _, p := range Profiles() {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		if (p.PaperMM == 80) != (p.Columns == 48) || (p.PaperMM == 58) != (p.Columns == 32) {
			t.Errorf("%s: %d mm with %d columns", p.Name, p.PaperMM, p.Columns)
		}
	}
	if _, err := LookupProfile("nope"); err == nil || !strings.Contains(err.Error(), "generic-80") {
		t.Fatalf("unknown profile error %v should list the known ones", err)
	}
	p := mustProfile(t, "GENERIC-80")
	p58, err := p.WithPaperWidth(58)
	if err != nil || p58.Columns != 32 || p58.WidthDots != 384 {
		t.Fatalf("WithPaperWidth(58) = %+v, %v", p58, err)
	}
	if _, err := p.WithPaperWidth(76); err == nil {
		t.Fatal("76 mm accepted")
	}
	if mustProfile(t, "zj-58").OneWay != true {
		t.Fatal("zj-58 should be one-way")
	}
}

func TestParseEncodingAndWithEncoding(t *testing.T) {
	for in, want := range map[string]Encoding{"cp437": CP437, "PC858": PC858, "gb18030": GB18030, "utf8": UTF8, "UTF-8": UTF8} {
		got, err := ParseEncoding(in)
		if err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseEncoding("latin9"); err == nil {
		t.Error("unknown code page accepted")
	}
	p := mustProfile(t, "generic-80").WithEncoding(GB18030)
	if err := p.Validate(); err != nil || !p.Chinese {
		t.Fatalf("generic-80 with gb18030: %+v %v", p, err)
	}
	job, _ := NewEncoder(mustProfile(t, "xprinter-58").WithEncoding(CP437)).Init().Job()
	if !bytes.Equal(job, []byte{ESC, '@', FS, '.', ESC, 't', 0}) {
		t.Fatalf("xprinter-58 forced to cp437 init = % x", job)
	}
}
