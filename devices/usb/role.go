package usb

import (
	"fmt"
	"strings"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/hid"
)

// USB class codes used for role guessing.
const (
	classPerInterface = 0x00
	classCDC          = 0x02
	classHID          = 0x03
	classPrinter      = 0x07
	classMassStorage  = 0x08
	classHub          = 0x09
	classCDCData      = 0x0a
	classMisc         = 0xef
	classVendor       = 0xff

	cdcSubclassACM   = 0x02
	hidProtoKeyboard = 0x01
	hidProtoMouse    = 0x02
)

// usbSerialVendor reports whether vid makes USB-serial bridge chips that
// use a vendor-specific class (FTDI, Prolific, Silicon Labs CP210x, WCH
// CH34x).
func usbSerialVendor(vid uint16) bool {
	switch vid {
	case 0x0403, 0x067b, 0x10c4, 0x1a86:
		return true
	}
	return false
}

// ifaceInfo is one interface (first alternate setting) as discovery sees it.
type ifaceInfo struct {
	class, sub, proto uint8
	// report is the HID report descriptor summary, nil when unknown.
	report *hid.ReportInfo
}

// deviceInfo is what role guessing needs to know about a device.
type deviceInfo struct {
	vid     uint16
	class   uint8
	product string
	ifaces  []ifaceInfo
}

// guessRole returns a short class description ("printer+hid-keyboard") and
// the most useful likely role: printer, then HID-POS scanner, then
// keyboard-wedge scanner, then serial.
func guessRole(d deviceInfo) (class, role string) {
	var names []string
	best := 0
	ranks := []string{devices.RoleUnknown, devices.RoleSerial, devices.RoleScannerHID, devices.RoleScannerHIDPOS, devices.RolePrinter}
	for _, in := range d.ifaces {
		name, r := ifaceRole(d, in)
		names = appendUnique(names, name)
		for i, rr := range ranks {
			if rr == r && i > best {
				best = i
			}
		}
	}
	if d.class != classPerInterface && d.class != classMisc && len(names) == 0 {
		names = append(names, className(d.class))
	}
	return strings.Join(names, "+"), ranks[best]
}

// ifaceRole names one interface and guesses its role.
func ifaceRole(d deviceInfo, in ifaceInfo) (name, role string) {
	switch in.class {
	case classPrinter:
		return "printer", devices.RolePrinter
	case classHID:
		return hidRole(d, in)
	case classCDC:
		if in.sub == cdcSubclassACM {
			return "cdc-acm", devices.RoleSerial
		}
		return "cdc", devices.RoleUnknown
	case classVendor:
		if usbSerialVendor(d.vid) {
			return "usb-serial", devices.RoleSerial
		}
	}
	return className(in.class), devices.RoleUnknown
}

// hidRole tells keyboards (wedge scanners) from HID-POS scanners, by the
// report descriptor when known, else by boot protocol and product name.
func hidRole(d deviceInfo, in ifaceInfo) (name, role string) {
	named := looksLikeScanner(d.product)
	switch {
	case in.report != nil && in.report.BarcodeScanner:
		return "hid-pos", devices.RoleScannerHIDPOS
	case in.proto == hidProtoKeyboard || (in.report != nil && in.report.Keyboard):
		return "hid-keyboard", devices.RoleScannerHID
	case in.proto == hidProtoMouse:
		return "hid-mouse", devices.RoleUnknown
	case in.report == nil && named:
		return "hid", devices.RoleScannerHIDPOS
	}
	return "hid", devices.RoleUnknown
}

// looksLikeScanner reports whether a product name suggests a scanner.
func looksLikeScanner(product string) bool {
	p := strings.ToLower(product)
	for _, w := range []string{"scanner", "barcode", "bar code", "reader", "imager"} {
		if strings.Contains(p, w) {
			return true
		}
	}
	return false
}

// className names a USB class code.
func className(c uint8) string {
	switch c {
	case classHID:
		return "hid"
	case classPrinter:
		return "printer"
	case classCDC:
		return "cdc"
	case classCDCData:
		return "cdc-data"
	case classMassStorage:
		return "mass-storage"
	case classHub:
		return "hub"
	case classVendor:
		return "vendor"
	}
	return fmt.Sprintf("class-%02x", c)
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
