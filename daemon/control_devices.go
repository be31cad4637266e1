package daemon

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/usb"
)

// ConfiguredDevices lists each lane's printer and scanner as cfg names
// them (no state: that needs the running daemon).
func ConfiguredDevices(cfg *Config) []control.LaneDevices {
	out := make([]control.LaneDevices, 0, len(cfg.Lanes))
	for _, lc := range cfg.Lanes {
		ld := control.LaneDevices{Lane: lc.ID}
		if pc, ok := cfg.Printers[lc.Printer]; ok && lc.Printer != "" {
			ld.Printer = &control.ConfiguredDevice{Name: lc.Printer, Backend: pc.Backend, Where: printerWhere(pc)}
		}
		if sc, ok := cfg.Scanners[lc.Scanner]; ok && lc.Scanner != "" {
			ld.Scanner = &control.ConfiguredDevice{Name: lc.Scanner, Backend: sc.Backend, Where: scannerWhere(sc)}
		}
		out = append(out, ld)
	}
	return out
}

// printerWhere names where a printer is attached.
func printerWhere(pc PrinterConfig) string {
	switch pc.Backend {
	case "usb":
		return usbWhere(pc.VID, pc.PID, pc.Serial)
	case "serial":
		return pc.Device
	case "network":
		return pc.Address
	case "file":
		return pc.Path
	case "spooler":
		return pc.Spooler
	}
	return ""
}

// scannerWhere names where a scanner is attached.
func scannerWhere(sc ScannerConfig) string {
	switch sc.Backend {
	case "usb-hid", "hid-pos":
		return usbWhere(sc.VID, sc.PID, sc.Serial)
	case "serial":
		return sc.Device
	case "network":
		return sc.Address
	}
	return ""
}

func usbWhere(vid, pid uint16, serial string) string {
	s := fmt.Sprintf("usb %04x:%04x", vid, pid)
	if serial != "" {
		s += " serial " + serial
	}
	return s
}

// DiscoverDevices lists the machine's USB devices and serial ports and
// probes cfg's network printers and scanners (cfg may be nil). The CLI
// uses it directly when the daemon is not running.
func DiscoverDevices(ctx context.Context, cfg *Config) devices.Report {
	o := devices.DiscoverOptions{}
	if usb.Supported {
		o.USB = usb.ListUSB
	}
	if cfg != nil {
		o.Network = networkTargets(cfg)
	}
	return devices.Discover(ctx, o)
}

// networkTargets are cfg's network printers and scanners.
func networkTargets(cfg *Config) []devices.NetworkTarget {
	var out []devices.NetworkTarget
	for _, name := range slices.Sorted(maps.Keys(cfg.Printers)) {
		if p := cfg.Printers[name]; p.Backend == "network" {
			out = append(out, devices.NetworkTarget{Name: "printer." + name, Addr: p.Address})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Scanners)) {
		if s := cfg.Scanners[name]; s.Backend == "network" {
			out = append(out, devices.NetworkTarget{Name: "scanner." + name, Addr: s.Address})
		}
	}
	return out
}
