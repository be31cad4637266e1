package usb

import (
	"errors"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/hid"
)

func TestParseID(t *testing.T) {
	for in, want := range map[string][2]uint16{"0416:5011": {0x0416, 0x5011}, " 04B8:0E15 ": {0x04b8, 0x0e15}, "0x1d6b:0x0104": {0x1d6b, 0x0104}} {
		v, p, err := ParseID(in)
		if err != nil || v != want[0] || p != want[1] {
			t.Errorf("ParseID(%q) = %04x:%04x, %v", in, v, p, err)
		}
	}
	for _, in := range []string{"", "0416", "0416:", "zz:0001", "0000:0001", "10000:1"} {
		if _, _, err := ParseID(in); !errors.Is(err, devices.ErrConfig) {
			t.Errorf("ParseID(%q): %v, want bad_config", in, err)
		}
	}
}

func TestMatchString(t *testing.T) {
	if s := (Match{VID: 0x416, PID: 0x5011}).String(); s != "usb:0416:5011" {
		t.Error(s)
	}
	if s := (Match{VID: 0x416, PID: 0x5011, Serial: "A1"}).String(); s != "usb:0416:5011/A1" {
		t.Error(s)
	}
}

func TestPermissionErrorNamesUdevRule(t *testing.T) {
	cause := errors.New("libusb: bad access [code -3]")
	err := error(permissionDenied(Match{VID: 0x0416, PID: 0x5011}, cause))
	if !errors.Is(err, devices.ErrPermission) || devices.CodeOf(err) != "permission_denied" {
		t.Fatalf("code %q", devices.CodeOf(err))
	}
	msg := err.Error()
	for _, want := range []string{
		"/etc/udev/rules.d/70-tillbridge.rules",
		`SUBSYSTEM=="usb", ATTR{idVendor}=="0416", ATTR{idProduct}=="5011", MODE="0660", GROUP="tillbridge"`,
		"bad access",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.VID != 0x0416 || !errors.Is(err, cause) {
		t.Errorf("cause chain broken: %v", err)
	}
}

func TestParseDeviceID(t *testing.T) {
	id := ParseDeviceID("MFG:EPSON;CMD:ESC/POS,PNG;MDL:TM-T20II;CLS:PRINTER;DES:TM-T20II receipt")
	if id.Manufacturer != "EPSON" || id.Model != "TM-T20II" || id.CommandSet != "ESC/POS,PNG" ||
		id.Class != "PRINTER" || id.Description != "TM-T20II receipt" || !id.ESCPOS() {
		t.Errorf("%+v", id)
	}
	long := ParseDeviceID("manufacturer:Star;model: TSP100 ;command set:STAR;x-extra:1;")
	if long.Manufacturer != "Star" || long.Model != "TSP100" || long.CommandSet != "STAR" || long.ESCPOS() || long.Fields["X-EXTRA"] != "1" {
		t.Errorf("%+v", long)
	}
}

func TestParseDeviceIDReply(t *testing.T) {
	id := "MFG:Spike;MDL:ESCPOS-1;CMD:ESC/POS;CLS:PRINTER\n"
	reply := append([]byte{0, byte(2 + len(id))}, id...)
	if got := parseDeviceIDReply(reply); got != strings.TrimSpace(id) {
		t.Errorf("got %q", got)
	}
	// A length field larger than the reply: trust the byte count.
	if got := parseDeviceIDReply([]byte{0x10, 0, 'M', 'F', 'G', ':', 'X'}); got != "MFG:X" {
		t.Errorf("got %q", got)
	}
	if got := parseDeviceIDReply([]byte{0}); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestGuessRole(t *testing.T) {
	pos := &hid.ReportInfo{BarcodeScanner: true}
	cases := []struct {
		name        string
		d           deviceInfo
		class, role string
	}{
		{"receipt printer", deviceInfo{ifaces: []ifaceInfo{{class: 7, sub: 1, proto: 2}}}, "printer", devices.RolePrinter},
		{"wedge scanner", deviceInfo{ifaces: []ifaceInfo{{class: 3, sub: 1, proto: 1}}}, "hid-keyboard", devices.RoleScannerHID},
		{"hid-pos by descriptor", deviceInfo{ifaces: []ifaceInfo{{class: 3, report: pos}}}, "hid-pos", devices.RoleScannerHIDPOS},
		{"hid-pos by name", deviceInfo{product: "Honeywell Barcode Scanner", ifaces: []ifaceInfo{{class: 3}}}, "hid", devices.RoleScannerHIDPOS},
		{"mouse", deviceInfo{ifaces: []ifaceInfo{{class: 3, sub: 1, proto: 2}}}, "hid-mouse", devices.RoleUnknown},
		{"cdc-acm scanner", deviceInfo{class: 0xef, ifaces: []ifaceInfo{{class: 2, sub: 2}, {class: 10}}}, "cdc-acm+cdc-data", devices.RoleSerial},
		{"ftdi", deviceInfo{vid: 0x0403, ifaces: []ifaceInfo{{class: 0xff}}}, "usb-serial", devices.RoleSerial},
		{"unknown vendor", deviceInfo{vid: 0x1234, ifaces: []ifaceInfo{{class: 0xff}}}, "vendor", devices.RoleUnknown},
		{"composite", deviceInfo{class: 0xef, ifaces: []ifaceInfo{{class: 3, proto: 1}, {class: 7, proto: 2}, {class: 3, report: pos}}},
			"hid-keyboard+printer+hid-pos", devices.RolePrinter},
		{"no interfaces", deviceInfo{class: 8}, "mass-storage", devices.RoleUnknown},
	}
	for _, c := range cases {
		class, role := guessRole(c.d)
		if class != c.class || role != c.role {
			t.Errorf("%s: got %s/%s, want %s/%s", c.name, class, role, c.class, c.role)
		}
	}
}

func TestNewScannerValidates(t *testing.T) {
	m := Match{VID: 0x1d6b, PID: 0x0104}
	bad := []ScannerConfig{
		{},
		{Match: m, Mode: "serial"},
		{Match: m, Layout: "dvorak"},
	}
	for _, c := range bad {
		if _, err := NewScanner(c); !errors.Is(err, devices.ErrConfig) {
			t.Errorf("NewScanner(%+v): %v, want bad_config", c, err)
		}
	}
	s, err := NewScanner(ScannerConfig{Match: m, Layout: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "usb:1d6b:0104" || s.cfg.Mode != ModeKeyboard || s.cfg.Poll != DefaultPoll || s.layout.Name() != "fr" {
		t.Errorf("defaults: %+v", s.cfg)
	}
}
