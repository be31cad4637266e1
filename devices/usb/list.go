//go:build cgo && !nousb && !windows

package usb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/google/gousb"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/hid"
)

var _ devices.USBLister = ListUSB

// ListUSB lists the USB devices plugged in (hubs left out), each with its
// class and likely role. A device tillbridge could use but may not open
// has Err set to the permission message naming the udev rule; its strings
// then come from sysfs where the OS has them.
func ListUSB(ctx context.Context) ([]devices.USBDevice, error) {
	uctx, err := newContext()
	if err != nil {
		return nil, err
	}
	defer uctx.Close()
	var descs []*gousb.DeviceDesc
	_, err = uctx.OpenDevices(func(d *gousb.DeviceDesc) bool {
		if d.Class != gousb.ClassHub {
			descs = append(descs, d)
		}
		return false
	})
	if err != nil && len(descs) == 0 {
		return nil, classify(Match{}, err)
	}
	sort.Slice(descs, func(i, j int) bool {
		if descs[i].Bus != descs[j].Bus {
			return descs[i].Bus < descs[j].Bus
		}
		return descs[i].Address < descs[j].Address
	})
	var out []devices.USBDevice
	for _, d := range descs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		out = append(out, describe(uctx, d))
	}
	return out, nil
}

// describe builds the listing entry of one device.
func describe(uctx *gousb.Context, d *gousb.DeviceDesc) devices.USBDevice {
	u := devices.USBDevice{VID: uint16(d.Vendor), PID: uint16(d.Product), Bus: d.Bus, Address: d.Address}
	m := Match{VID: u.VID, PID: u.PID}
	openErr := readStrings(uctx, d, &u)
	if openErr != nil {
		sysfsStrings(d, &u)
	}
	info := deviceInfo{vid: u.VID, class: uint8(d.Class), product: u.Product}
	if cd, ok := d.Configs[firstConfig(d)]; ok {
		for _, in := range cd.Interfaces {
			s := in.AltSettings[0]
			info.ifaces = append(info.ifaces, ifaceInfo{
				class: uint8(s.Class), sub: uint8(s.SubClass), proto: uint8(s.Protocol),
				report: sysfsReportInfo(d, cd.Number, s.Number),
			})
		}
	}
	u.Class, u.Role = guessRole(info)
	if openErr != nil && u.Role != devices.RoleUnknown {
		u.Err = classify(m, openErr).Error()
	}
	return u
}

// readStrings opens the device to read its manufacturer, product and
// serial strings. It returns the open error, if any.
func readStrings(uctx *gousb.Context, d *gousb.DeviceDesc, u *devices.USBDevice) error {
	devs, err := uctx.OpenDevices(func(x *gousb.DeviceDesc) bool { return x.Bus == d.Bus && x.Address == d.Address })
	if len(devs) == 0 {
		if err == nil {
			err = fmt.Errorf("device %d/%d went away", d.Bus, d.Address)
		}
		return err
	}
	for _, dev := range devs {
		defer dev.Close()
	}
	dev := devs[0]
	dev.ControlTimeout = defaultControlTimeout
	u.Manufacturer, _ = dev.Manufacturer()
	u.Product, _ = dev.Product()
	u.Serial, _ = dev.SerialNumber()
	return nil
}

// sysfsDir is the Linux sysfs directory of a device, e.g.
// /sys/bus/usb/devices/1-1.2 (bus 1, ports 1 then 2).
func sysfsDir(d *gousb.DeviceDesc) string {
	ports := make([]string, len(d.Path))
	for i, p := range d.Path {
		ports[i] = strconv.Itoa(p)
	}
	return fmt.Sprintf("/sys/bus/usb/devices/%d-%s", d.Bus, strings.Join(ports, "."))
}

// sysfsStrings fills the strings from sysfs (Linux; readable without
// access to the device node). Elsewhere it leaves them empty.
func sysfsStrings(d *gousb.DeviceDesc, u *devices.USBDevice) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(sysfsDir(d), name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	u.Manufacturer, u.Product, u.Serial = read("manufacturer"), read("product"), read("serial")
}

// sysfsReportInfo reads a HID interface's report descriptor from sysfs
// (present while usbhid is bound, Linux only); nil when unavailable.
func sysfsReportInfo(d *gousb.DeviceDesc, cfg, iface int) *hid.ReportInfo {
	pattern := fmt.Sprintf("%s:%d.%d/*/report_descriptor", sysfsDir(d), cfg, iface)
	files, _ := filepath.Glob(pattern)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if info, err := hid.ParseReportDescriptor(b); err == nil {
			return &info
		}
	}
	return nil
}
