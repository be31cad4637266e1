package escpos

import (
	"fmt"
	"sort"
	"strings"
)

// Encoding is how a profile turns text into printer bytes.
type Encoding string

// Text encodings a profile can use.
const (
	// CP437 is IBM PC code page 437 (ESC t 0): ASCII plus box drawing and
	// a few accented letters; no euro sign.
	CP437 Encoding = "cp437"
	// PC858 is code page 858 (ESC t 19 on Epson): Latin-1 letters and €.
	PC858 Encoding = "pc858"
	// GB18030 selects Chinese character mode (FS &) and encodes text as
	// GB18030; ASCII stays single-byte.
	GB18030 Encoding = "gb18030"
	// UTF8 selects UTF-8 with FS ( C (Epson TM-T88VI and later, TM-m30).
	UTF8 Encoding = "utf-8"
)

// Profile describes one printer model family: paper width, text encoding
// and capabilities. Profiles are values; the daemon copies one from the
// table and adjusts it from configuration (WithPaperWidth, OneWay).
type Profile struct {
	// Name is the configuration name, e.g. "generic-80".
	Name string
	// Description is shown by `tillbridge devices`.
	Description string
	// PaperMM is the paper roll width: 58 or 80.
	PaperMM int
	// WidthDots is the printable width in dots (576 for 80 mm, 384 for 58 mm).
	WidthDots int
	// Columns is the number of font A characters per line (48 or 32).
	Columns int
	// Encoding is the text encoding the encoder selects at Init.
	Encoding Encoding
	// CodePage is the ESC t n value for single-byte encodings.
	CodePage byte
	// Chinese is true when the printer understands FS & / FS . (Chinese
	// character mode); the encoder then cancels it for single-byte text.
	Chinese bool
	// QR is true when the printer supports GS ( k QR codes; without it the
	// QR data is printed as text.
	QR bool
	// Cutter is true when the printer has an autocutter; without it a cut
	// becomes a paper feed to the tear bar.
	Cutter bool
	// OneWay is true for printers that cannot send status back.
	OneWay bool
}

// builtinProfiles is the fixed profile table; lookups copy from it.
func builtinProfiles() []Profile {
	return []Profile{
		{Name: "generic-80", Description: "generic 80 mm ESC/POS printer (PC858)", PaperMM: 80, WidthDots: 576, Columns: 48, Encoding: PC858, CodePage: 19, QR: true, Cutter: true},
		{Name: "generic-58", Description: "generic 58 mm ESC/POS printer (PC858)", PaperMM: 58, WidthDots: 384, Columns: 32, Encoding: PC858, CodePage: 19, QR: true},
		{Name: "generic-80-cp437", Description: "80 mm ESC/POS printer, code page 437 only", PaperMM: 80, WidthDots: 576, Columns: 48, Encoding: CP437, CodePage: 0, QR: true, Cutter: true},
		{Name: "generic-80-cn", Description: "80 mm Chinese-market ESC/POS printer (GB18030)", PaperMM: 80, WidthDots: 576, Columns: 48, Encoding: GB18030, Chinese: true, QR: true, Cutter: true},
		{Name: "generic-58-cn", Description: "58 mm Chinese-market ESC/POS printer (GB18030)", PaperMM: 58, WidthDots: 384, Columns: 32, Encoding: GB18030, Chinese: true, QR: true},
		{Name: "epson-tm-t20", Description: "Epson TM-T20 series, 80 mm", PaperMM: 80, WidthDots: 576, Columns: 48, Encoding: PC858, CodePage: 19, QR: true, Cutter: true},
		{Name: "epson-tm-t88", Description: "Epson TM-T88VI/VII, 80 mm, UTF-8", PaperMM: 80, WidthDots: 576, Columns: 48, Encoding: UTF8, QR: true, Cutter: true},
		{Name: "epson-tm-m30", Description: "Epson TM-m30, 80 mm, UTF-8", PaperMM: 80, WidthDots: 576, Columns: 48, Encoding: UTF8, QR: true, Cutter: true},
		{Name: "xprinter-80", Description: "Xprinter XP-80 series (GB18030)", PaperMM: 80, WidthDots: 576, Columns: 48, Encoding: GB18030, Chinese: true, QR: true, Cutter: true},
		{Name: "xprinter-58", Description: "Xprinter XP-58 series (GB18030)", PaperMM: 58, WidthDots: 384, Columns: 32, Encoding: GB18030, Chinese: true, QR: true},
		{Name: "zj-58", Description: "Zjiang ZJ-5890 class 58 mm, one-way (no status)", PaperMM: 58, WidthDots: 384, Columns: 32, Encoding: GB18030, Chinese: true, QR: true, OneWay: true},
	}
}

// Profiles returns every built-in profile, sorted by name.
func Profiles() []Profile {
	ps := builtinProfiles()
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// LookupProfile returns the built-in profile with that name
// (case-insensitive).
func LookupProfile(name string) (Profile, error) {
	for _, p := range builtinProfiles() {
		if strings.EqualFold(p.Name, name) {
			return p, nil
		}
	}
	names := make([]string, 0, 16)
	for _, p := range Profiles() {
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("escpos: unknown printer profile %q (known: %s)", name, strings.Join(names, ", "))
}

// WithPaperWidth returns p adjusted to a 58 or 80 mm roll: width in dots
// and font A columns. Other widths are refused.
func (p Profile) WithPaperWidth(mm int) (Profile, error) {
	switch mm {
	case 80:
		p.PaperMM, p.WidthDots, p.Columns = 80, 576, 48
	case 58:
		p.PaperMM, p.WidthDots, p.Columns = 58, 384, 32
	default:
		return p, fmt.Errorf("escpos: paper width %d mm not supported (58 or 80)", mm)
	}
	return p, nil
}

// Validate checks that p is usable by the encoder.
func (p Profile) Validate() error {
	if p.Columns < 16 || p.Columns > 128 {
		return fmt.Errorf("escpos: profile %q: columns %d out of range", p.Name, p.Columns)
	}
	if p.WidthDots < 128 {
		return fmt.Errorf("escpos: profile %q: width %d dots out of range", p.Name, p.WidthDots)
	}
	switch p.Encoding {
	case CP437, PC858, UTF8:
	case GB18030:
		if !p.Chinese {
			return fmt.Errorf("escpos: profile %q: gb18030 needs a Chinese-capable printer", p.Name)
		}
	default:
		return fmt.Errorf("escpos: profile %q: unknown encoding %q", p.Name, p.Encoding)
	}
	return nil
}

// ParseEncoding reads a configured code page name: "cp437", "pc858",
// "gb18030" or "utf8"/"utf-8" (case-insensitive).
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "cp437", "pc437":
		return CP437, nil
	case "pc858", "cp858":
		return PC858, nil
	case "gb18030", "gbk":
		return GB18030, nil
	case "utf8", "utf-8":
		return UTF8, nil
	}
	return "", fmt.Errorf("escpos: unknown code page %q (cp437, pc858, gb18030, utf8)", s)
}

// WithEncoding returns p printing text in enc, with the matching ESC t
// page for single-byte encodings. Choosing GB18030 declares the printer
// Chinese-capable (FS &).
func (p Profile) WithEncoding(enc Encoding) Profile {
	p.Encoding = enc
	switch enc {
	case CP437:
		p.CodePage = CodePagePC437
	case PC858:
		p.CodePage = CodePagePC858
	case GB18030:
		p.Chinese = true
	}
	return p
}
