//go:build usbe2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/devices/usb"
)

// configfsRoot is where USB gadgets are defined.
const configfsRoot = "/sys/kernel/config/usb_gadget"

// The three gadgets: a receipt printer, a scanner with a boot keyboard and
// a HID-POS interface, and a CDC-ACM serial scanner, each on its own
// dummy_hcd controller (bus) like separate devices on a till.
const (
	testVID    = 0x1d6b
	printerPID = 0x0104
	scannerPID = 0x0106
	serialPID  = 0x0107
	pnpString  = "MFG:Tillbridge Test;MDL:TB-80 USB;CMD:ESC/POS;CLS:PRINTER;DES:gadget receipt printer"
)

// gadget is one configfs gadget bound to one UDC.
type gadget struct {
	name, udc, product, serial string
	pid                        uint16
	composite                  bool // IAD device class (needed by CDC-ACM)
}

func printerGadget() gadget {
	return gadget{name: "prn", udc: "dummy_udc.0", product: "Test Receipt Printer", serial: "TB-PRN-1", pid: printerPID}
}

func scannerGadget() gadget {
	return gadget{name: "scan", udc: "dummy_udc.1", product: "Test Barcode Scanner", serial: "TB-SCAN-1", pid: scannerPID}
}

func serialGadget() gadget {
	return gadget{name: "acm", udc: "dummy_udc.2", product: "Test Serial Scanner", serial: "TB-ACM-1", pid: serialPID, composite: true}
}

func (g gadget) dir(parts ...string) string {
	return filepath.Join(append([]string{configfsRoot, g.name}, parts...)...)
}

func (g gadget) match() usb.Match { return usb.Match{VID: testVID, PID: g.pid} }

// kbdReportDesc is the HID 1.11 appendix B.1 boot keyboard descriptor.
var kbdReportDesc = []byte{
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
	0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x03, 0x95, 0x05, 0x75, 0x01,
	0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x03, 0x95, 0x06,
	0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
}

// posReportDesc is a HID-POS scanner: Bar Code Scanner page (0x8C)
// application collection with the Scanned Data Report (ID 2, 63 bytes):
// length, symbology identifier 1-3, 56 bytes of decoded data, vendor
// symbology code, a reserved byte and the decode-data-continued bit.
var posReportDesc = []byte{
	0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01, // Usage Page (Bar Code Scanner), Usage (Bar Code Scanner), Application
	0x85, 0x02, 0x09, 0x12, 0xa1, 0x02, //   Report ID (2), Usage (Scanned Data Report), Logical
	0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, //     Logical 0..255, 8 bits
	0x06, 0x00, 0xff, 0x09, 0x01, 0x95, 0x01, 0x81, 0x02, //     vendor: data length
	0x05, 0x8c, 0x09, 0xfb, 0x09, 0xfc, 0x09, 0xfd, 0x95, 0x03, 0x81, 0x02, //     Symbology Identifier 1-3
	0x09, 0xfe, 0x95, 0x38, 0x82, 0x02, 0x01, //     Decoded Data, 56 bytes (buffered bytes)
	0x06, 0x00, 0xff, 0x09, 0x02, 0x95, 0x01, 0x81, 0x02, //     vendor: symbology code
	0x95, 0x01, 0x81, 0x03, //     reserved
	0x05, 0x8c, 0x09, 0xff, 0x25, 0x01, 0x75, 0x01, 0x95, 0x01, 0x81, 0x02, //     Decode Data Continued
	0x75, 0x07, 0x95, 0x01, 0x81, 0x03, //     padding
	0xc0, 0xc0,
}

// cfs writes configfs entries, keeping the first error.
type cfs struct{ err error }

func (c *cfs) mkdir(path string) {
	if c.err == nil {
		c.err = os.MkdirAll(path, 0o755)
	}
}

func (c *cfs) write(path string, data []byte) {
	if c.err == nil {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			c.err = fmt.Errorf("write %s: %w", path, err)
		}
	}
}

func (c *cfs) set(path, value string) { c.write(path, []byte(value+"\n")) }

func (c *cfs) link(target, name string) {
	if c.err == nil {
		c.err = os.Symlink(target, name)
	}
}

// create defines g with one configuration and its strings.
func (c *cfs) create(g gadget) {
	c.mkdir(g.dir())
	c.set(g.dir("idVendor"), fmt.Sprintf("%#04x", testVID))
	c.set(g.dir("idProduct"), fmt.Sprintf("%#04x", g.pid))
	c.set(g.dir("bcdUSB"), "0x0200")
	if g.composite {
		c.set(g.dir("bDeviceClass"), "0xef")
		c.set(g.dir("bDeviceSubClass"), "0x02")
		c.set(g.dir("bDeviceProtocol"), "0x01")
	}
	c.mkdir(g.dir("strings", "0x409"))
	c.set(g.dir("strings", "0x409", "manufacturer"), "Tillbridge Test")
	c.set(g.dir("strings", "0x409", "product"), g.product)
	c.set(g.dir("strings", "0x409", "serialnumber"), g.serial)
	c.mkdir(g.dir("configs", "c.1", "strings", "0x409"))
	c.set(g.dir("configs", "c.1", "strings", "0x409", "configuration"), "default")
	c.set(g.dir("configs", "c.1", "MaxPower"), "250")
}

// function creates function fn of g with attributes and links it into the
// configuration.
func (c *cfs) function(g gadget, fn string, attrs map[string][]byte) {
	c.mkdir(g.dir("functions", fn))
	for _, k := range []string{"subclass", "protocol", "report_length", "report_desc", "pnp_string", "q_len"} {
		if v, ok := attrs[k]; ok {
			c.write(g.dir("functions", fn, k), v)
		}
	}
	c.link(g.dir("functions", fn), g.dir("configs", "c.1", fn))
}

// createGadgets defines and binds the three gadgets.
func createGadgets() error {
	var c cfs
	prn, scan, acm := printerGadget(), scannerGadget(), serialGadget()
	c.create(prn)
	c.function(prn, "printer.usb0", map[string][]byte{"pnp_string": []byte(pnpString), "q_len": []byte("16")})
	c.create(scan)
	c.function(scan, "hid.kbd", map[string][]byte{"subclass": []byte("1"), "protocol": []byte("1"),
		"report_length": []byte("8"), "report_desc": kbdReportDesc})
	c.function(scan, "hid.pos", map[string][]byte{"subclass": []byte("0"), "protocol": []byte("0"),
		"report_length": []byte("64"), "report_desc": posReportDesc})
	c.create(acm)
	c.function(acm, "acm.usb0", nil)
	if c.err != nil {
		return c.err
	}
	for _, g := range []gadget{prn, scan, acm} {
		if err := plug(g); err != nil {
			return err
		}
	}
	return nil
}

// plug binds g to its UDC: the device appears on the host side.
func plug(g gadget) error { return os.WriteFile(g.dir("UDC"), []byte(g.udc+"\n"), 0o644) }

// unplug unbinds g: for the host the device is pulled out.
func unplug(g gadget) error { return os.WriteFile(g.dir("UDC"), []byte("\n"), 0o644) }

// devNode returns the /dev node of a gadget function from the "dev"
// (major:minor) attribute configfs shows.
func devNode(g gadget, fn string) (string, error) {
	mm, err := os.ReadFile(g.dir("functions", fn, "dev"))
	if err != nil {
		return "", err
	}
	ue, err := os.ReadFile(filepath.Join("/sys/dev/char", strings.TrimSpace(string(mm)), "uevent"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(ue), "\n") {
		if name, ok := strings.CutPrefix(line, "DEVNAME="); ok {
			return "/dev/" + name, nil
		}
	}
	return "", errors.New("no DEVNAME for " + fn)
}

// waitFor polls cond until it holds or the timeout passes (a bound for a
// hang, not a measured duration).
func waitFor(timeout time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
