package installer

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// USBID is a USB vendor and product id pair.
type USBID struct {
	Vendor, Product uint16
}

// String formats the id as udev and lsusb do: "0416:5011".
func (u USBID) String() string { return fmt.Sprintf("%04x:%04x", u.Vendor, u.Product) }

// ErrBadUSBID is wrapped by ParseUSBID errors.
var ErrBadUSBID = errors.New("bad USB id: want VID:PID in hex, e.g. 0416:5011")

// ParseUSBID parses "VID:PID" in hexadecimal ("0416:5011", "0x0416:0x5011").
func ParseUSBID(s string) (USBID, error) {
	v, p, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return USBID{}, fmt.Errorf("%w: %q", ErrBadUSBID, s)
	}
	vid, err1 := parseHex16(v)
	pid, err2 := parseHex16(p)
	if err1 != nil || err2 != nil || vid == 0 {
		return USBID{}, fmt.Errorf("%w: %q", ErrBadUSBID, s)
	}
	return USBID{vid, pid}, nil
}

func parseHex16(s string) (uint16, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	if s == "" || len(s) > 4 {
		return 0, ErrBadUSBID
	}
	n, err := strconv.ParseUint(s, 16, 16)
	return uint16(n), err
}

// ParseUSBIDs parses a comma-separated list of VID:PID pairs; an empty
// string is an empty list.
func ParseUSBIDs(list string) ([]USBID, error) {
	var ids []USBID
	for _, f := range strings.Split(list, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		id, err := ParseUSBID(f)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// udevMatches are the device nodes a USB printer or scanner shows up as:
// the raw USB device (libusb), a USB-serial port, a HID-POS or
// keyboard-wedge scanner (hidraw, evdev), and a usblp printer.
func udevMatches() []string {
	return []string{
		`SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="%s", ATTR{idProduct}=="%s"`,
		`SUBSYSTEMS=="usb", SUBSYSTEM=="tty", ATTRS{idVendor}=="%s", ATTRS{idProduct}=="%s"`,
		`SUBSYSTEMS=="usb", SUBSYSTEM=="hidraw", ATTRS{idVendor}=="%s", ATTRS{idProduct}=="%s"`,
		`SUBSYSTEMS=="usb", SUBSYSTEM=="input", KERNEL=="event*", ATTRS{idVendor}=="%s", ATTRS{idProduct}=="%s"`,
		`SUBSYSTEMS=="usb", SUBSYSTEM=="usbmisc", KERNEL=="lp*", ATTRS{idVendor}=="%s", ATTRS{idProduct}=="%s"`,
	}
}

// UdevReloadCommand is what install runs after writing the rules, and what
// it tells the administrator to run when that fails.
const UdevReloadCommand = "udevadm control --reload-rules && udevadm trigger"

// RenderUdevRules returns the udev rules file that gives group read and
// write access (mode 0660) to every device node of the listed USB ids.
// Duplicates are removed and ids are sorted, so the file is stable.
func RenderUdevRules(group string, ids []USBID) string {
	var b strings.Builder
	b.WriteString("# Written by `tillbridge install`: gives the tillbridge service (group " + group + ")\n")
	b.WriteString("# access to its USB printers and scanners. Rewritten on every install; to change\n")
	b.WriteString("# the devices, edit the configuration and run `tillbridge install --udev-only`.\n")
	for _, id := range uniqueSorted(ids) {
		vid, pid := fmt.Sprintf("%04x", id.Vendor), fmt.Sprintf("%04x", id.Product)
		fmt.Fprintf(&b, "\n# %s\n", id)
		for _, match := range udevMatches() {
			fmt.Fprintf(&b, match, vid, pid)
			fmt.Fprintf(&b, ", GROUP=\"%s\", MODE=\"0660\"\n", group)
		}
	}
	return b.String()
}

// uniqueSorted returns ids without duplicates, sorted.
func uniqueSorted(ids []USBID) []USBID {
	seen := map[USBID]bool{}
	var out []USBID
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Vendor != out[j].Vendor {
			return out[i].Vendor < out[j].Vendor
		}
		return out[i].Product < out[j].Product
	})
	return out
}
