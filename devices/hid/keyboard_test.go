package hid

import (
	"errors"
	"strings"
	"testing"
)

// press is one key-down report; release is the key-up report.
func press(mods, usage byte) []byte { return []byte{mods, 0, usage, 0, 0, 0, 0, 0} }

var release = make([]byte, BootReportLen)

const shift, altgr = ModLeftShift, ModRightAlt

// keyCase is one key of a layout as a wedge scanner sends it, written out
// by hand from the layout charts (not derived from the tables under test).
type keyCase struct {
	layout string
	usage  byte
	mods   byte
	want   rune
}

// layoutCases: every digit of every layout, and letters and symbols that
// differ between layouts.
func layoutCases() []keyCase {
	var cs []keyCase
	for _, l := range []string{"us", "uk", "de", "fr"} {
		mods := byte(0)
		if l == "fr" {
			mods = shift // AZERTY: digits need Shift
		}
		for i, d := range "1234567890" {
			cs = append(cs, keyCase{l, 0x1e + byte(i), mods, d})
		}
	}
	return append(cs,
		keyCase{"us", 0x04, 0, 'a'}, keyCase{"us", 0x04, shift, 'A'}, keyCase{"us", 0x1c, 0, 'y'},
		keyCase{"us", 0x1d, 0, 'z'}, keyCase{"us", 0x1f, shift, '@'}, keyCase{"us", 0x34, shift, '"'},
		keyCase{"us", 0x2d, 0, '-'}, keyCase{"us", 0x38, shift, '?'},
		keyCase{"uk", 0x1f, shift, '"'}, keyCase{"uk", 0x34, shift, '@'}, keyCase{"uk", 0x20, shift, '£'},
		keyCase{"uk", 0x32, 0, '#'}, keyCase{"uk", 0x64, 0, '\\'}, keyCase{"uk", 0x21, altgr, '€'},
		keyCase{"de", 0x1c, 0, 'z'}, keyCase{"de", 0x1d, 0, 'y'}, keyCase{"de", 0x1d, shift, 'Y'},
		keyCase{"de", 0x2f, 0, 'ü'}, keyCase{"de", 0x2d, 0, 'ß'}, keyCase{"de", 0x14, altgr, '@'},
		keyCase{"de", 0x38, 0, '-'}, keyCase{"de", 0x24, shift, '/'}, keyCase{"de", 0x08, altgr, '€'},
		keyCase{"fr", 0x14, 0, 'a'}, keyCase{"fr", 0x04, 0, 'q'}, keyCase{"fr", 0x1a, 0, 'z'},
		keyCase{"fr", 0x1d, 0, 'w'}, keyCase{"fr", 0x33, 0, 'm'}, keyCase{"fr", 0x10, 0, ','},
		keyCase{"fr", 0x14, shift, 'A'}, keyCase{"fr", 0x1e, 0, '&'}, keyCase{"fr", 0x1f, 0, 'é'},
		keyCase{"fr", 0x27, 0, 'à'}, keyCase{"fr", 0x27, altgr, '@'}, keyCase{"fr", 0x23, 0, '-'},
	)
}

func mustLayout(t *testing.T, name string) *Layout {
	t.Helper()
	l, err := LookupLayout(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// feedAll feeds reports and returns the scans, failing on errors.
func feedAll(t *testing.T, d *Decoder, reports ...[]byte) []string {
	t.Helper()
	var out []string
	for _, r := range reports {
		s, err := d.Feed(r)
		if err != nil {
			t.Fatalf("Feed(% x): %v", r, err)
		}
		out = append(out, s...)
	}
	return out
}

func TestDecodeLayoutKeys(t *testing.T) {
	for _, c := range layoutCases() {
		d := NewDecoder(mustLayout(t, c.layout))
		got := feedAll(t, d, press(c.mods, c.usage), release, press(0, UsageEnter), release)
		if len(got) != 1 || got[0] != string(c.want) {
			t.Errorf("%s usage %#x mods %#x: got %q, want %q", c.layout, c.usage, c.mods, got, string(c.want))
		}
	}
}

func TestEncodeLayoutKeys(t *testing.T) {
	for _, c := range layoutCases() {
		reps, err := mustLayout(t, c.layout).Reports(string(c.want))
		if err != nil {
			t.Fatalf("%s %q: %v", c.layout, c.want, err)
		}
		if want := press(c.mods, c.usage); string(reps[0]) != string(want) {
			t.Errorf("%s %q: first report % x, want % x", c.layout, c.want, reps[0], want)
		}
	}
}

func TestCapsLock(t *testing.T) {
	caps := [][]byte{press(0, UsageCapsLock), release}
	cases := []struct {
		layout string
		usage  byte
		mods   byte
		want   string
	}{
		{"us", 0x04, 0, "A"},     // caps: upper case
		{"us", 0x04, shift, "a"}, // caps+shift: lower case
		{"us", 0x1e, 0, "1"},     // caps leaves digits alone
		{"de", 0x1c, 0, "Z"},
		{"de", 0x34, 0, "Ä"},
		{"fr", 0x1e, 0, "1"},     // AZERTY caps lock gives digits
		{"fr", 0x1e, shift, "&"}, // and shift undoes it
		{"fr", 0x14, 0, "A"},
	}
	for _, c := range cases {
		d := NewDecoder(mustLayout(t, c.layout))
		reps := append(append([][]byte{}, caps...), press(c.mods, c.usage), release, press(0, UsageEnter))
		if got := feedAll(t, d, reps...); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s caps usage %#x mods %#x: got %q, want %q", c.layout, c.usage, c.mods, got, c.want)
		}
	}
	// Caps Lock pressed twice is off again.
	d := NewDecoder(mustLayout(t, "us"))
	got := feedAll(t, d, press(0, UsageCapsLock), release, press(0, UsageCapsLock), release, press(0, 0x04), release, press(0, UsageEnter))
	if len(got) != 1 || got[0] != "a" {
		t.Errorf("caps toggled twice: got %q", got)
	}
}

func TestRoundTripPaymentCode(t *testing.T) {
	const code = "286813975482301759"
	for _, name := range []string{"us", "uk", "gb", "de", "fr"} {
		l := mustLayout(t, name)
		reps, err := l.Reports(code + "\n")
		if err != nil {
			t.Fatal(err)
		}
		if got := feedAll(t, NewDecoder(l), reps...); len(got) != 1 || got[0] != code {
			t.Errorf("%s: got %q", name, got)
		}
	}
}

// TestWedgeLayoutMismatch shows the classic bug the layout setting fixes: a
// scanner set to AZERTY read as US gives symbols instead of digits.
func TestWedgeLayoutMismatch(t *testing.T) {
	reps, err := mustLayout(t, "fr").Reports("1234\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := feedAll(t, NewDecoder(mustLayout(t, "us")), reps...); len(got) != 1 || got[0] != "!@#$" {
		t.Errorf("fr scanner read as us: got %q, want %q", got, "!@#$")
	}
}

func TestHeldKeysRolloverAndRepeats(t *testing.T) {
	d := NewDecoder(mustLayout(t, "us"))
	got := feedAll(t, d,
		press(0, 0x1e), press(0, 0x1e), press(0, 0x1e), // held / idle repeats: one "1"
		[]byte{0, 0, 0x1e, 0x1f, 0, 0, 0, 0}, // 2 pressed before 1 released
		[]byte{0, 0, 0x1f, 0, 0, 0, 0, 0},    // 1 released, 2 still held
		[]byte{},                             // zero-length report
		release,
		[]byte{0, 0, 1, 1, 1, 1, 1, 1},                   // ErrorRollOver: ignored
		press(0, 0x20), release, press(0, 0x20), release, // "33": released in between
		[]byte{0, 0, 0x21, 0x21, 0, 0, 0, 0}, // a usage listed twice is one key
		release,
		[]byte{0, 0, 0xe1, 0x22, 0, 0, 0, 0}, // Left Shift sent as a key usage
		release,
		press(0, UsageEnter), release)
	if len(got) != 1 || got[0] != "12334%" {
		t.Errorf("got %q, want %q", got, "12334%")
	}
}

func TestTerminators(t *testing.T) {
	d := NewDecoder(mustLayout(t, "us"))
	got := feedAll(t, d,
		press(0, UsageEnter), release, // lone Enter: no scan
		press(0, 0x1e), release, press(0, UsageTab), release,
		press(0, 0x59), release, press(0, 0x62), release, press(0, UsageKeypadEnter), release)
	if strings.Join(got, "|") != "1|10" {
		t.Errorf("got %q, want [1 10]", got)
	}
}

func TestAltKeypadAndControl(t *testing.T) {
	d := NewDecoder(mustLayout(t, "fr"))
	alt := byte(ModLeftAlt)
	got := feedAll(t, d,
		// Alt+0+5+2 = '4' whatever the layout
		press(alt, 0x62), press(alt, 0), press(alt, 0x5d), press(alt, 0), press(alt, 0x5a), press(alt, 0), release,
		press(ModLeftCtrl, 0x30), release, // Ctrl+$ on AZERTY: nothing
		press(ModLeftCtrl, 0x14), release, // Ctrl+A (the key US calls Q on AZERTY) = 0x01
		press(0, UsageEnter), release)
	if len(got) != 1 || got[0] != "4\x01" {
		t.Errorf("got %q, want %q", got, "4\x01")
	}
}

func TestDecoderErrors(t *testing.T) {
	d := NewDecoder(mustLayout(t, "us"))
	if _, err := d.Feed([]byte{0, 0}); !errors.Is(err, ErrShortReport) {
		t.Errorf("2-byte report: %v, want short_report", err)
	}
	d.MaxScan = 3
	feedAll(t, d, press(0, 0x1e), release, press(0, 0x1f), release, press(0, 0x20), release, press(0, 0x21), release)
	if d.Pending() != 3 {
		t.Errorf("pending %d, want 3", d.Pending())
	}
	if _, err := d.Feed(press(0, UsageEnter)); !errors.Is(err, ErrTooLong) {
		t.Errorf("over-long scan: %v, want scan_too_long", err)
	}
	// The decoder works again after the dropped scan.
	if got := feedAll(t, d, release, press(0, 0x27), release, press(0, UsageEnter)); len(got) != 1 || got[0] != "0" {
		t.Errorf("after overflow: got %q", got)
	}
	if _, err := LookupLayout("dvorak"); !errors.Is(err, ErrUnknownLayout) {
		t.Errorf("unknown layout: %v", err)
	}
	if _, err := mustLayout(t, "us").Reports("€"); !errors.Is(err, ErrUnencodable) {
		t.Errorf("€ on us: %v", err)
	}
}

func TestResetForgetsState(t *testing.T) {
	d := NewDecoder(mustLayout(t, "us"))
	feedAll(t, d, press(0, UsageCapsLock), release, press(0, 0x04))
	d.Reset()
	if got := feedAll(t, d, press(0, 0x04), release, press(0, UsageEnter)); len(got) != 1 || got[0] != "a" {
		t.Errorf("after reset: got %q, want [a]", got)
	}
}

func TestLayoutsAndNames(t *testing.T) {
	if got := strings.Join(Layouts(), ","); got != "de,fr,gb,uk,us" {
		t.Errorf("Layouts() = %s", got)
	}
	for _, n := range []string{"", "US", " fr "} {
		if _, err := LookupLayout(n); err != nil {
			t.Errorf("LookupLayout(%q): %v", n, err)
		}
	}
	if mustLayout(t, "").Name() != "us" {
		t.Error(`"" is not us`)
	}
}
