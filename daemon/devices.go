package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/usb"
)

// networkDialTimeout bounds connecting to a network printer.
const networkDialTimeout = 3 * time.Second

// openPrinter builds the printer named name, from Options.Printers or the
// config. Nothing is opened yet: the driver opens the device on first use
// and reopens it after an unplug.
func (d *Daemon) openPrinter(name string) (devices.Printer, error) {
	if p, ok := d.opts.Printers[name]; ok {
		return p, nil
	}
	pc := d.cfg.Printers[name]
	field := "printer." + name
	profile, err := printerProfile(pc)
	if err != nil {
		return nil, &FieldError{Field: field + ".profile", Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
	}
	open, oneWay := printerOpener(name, pc)
	p, err := escpos.NewPrinter(escpos.PrinterConfig{Name: name, Profile: profile, Open: open,
		OneWay: pc.OneWay || oneWay, Drawer: escpos.DrawerConfig{Disabled: !pc.Drawer}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return p, nil
}

// printerProfile looks up the configured profile (default generic-<width>),
// fits it to the paper width and applies a code page override.
func printerProfile(pc PrinterConfig) (escpos.Profile, error) {
	name := pc.Profile
	if name == "" {
		name = fmt.Sprintf("generic-%d", pc.Width)
	}
	p, err := escpos.LookupProfile(name)
	if err != nil {
		return p, err
	}
	if p, err = p.WithPaperWidth(pc.Width); err != nil {
		return p, err
	}
	if pc.CodePage != "" {
		enc, err := escpos.ParseEncoding(pc.CodePage)
		if err != nil {
			return p, err
		}
		p = p.WithEncoding(enc)
	}
	return p, p.Validate()
}

// printerOpener returns the transport opener of a backend, and whether the
// backend can never answer a status request.
func printerOpener(name string, pc PrinterConfig) (devices.Opener, bool) {
	switch pc.Backend {
	case "usb":
		return usb.PrinterOpener(usb.PrinterConfig{Match: usb.Match{VID: pc.VID, PID: pc.PID, Serial: pc.Serial}}), false
	case "serial":
		return devices.SerialOpener(devices.SerialConfig{Port: pc.Device, Baud: pc.Baud}), false
	case "network":
		return devices.NetworkOpener(pc.Address, networkDialTimeout), false
	case "file":
		return devices.FileOpener(pc.Path), true
	case "spooler":
		return devices.SpoolerOpener(pc.Spooler), true
	}
	return devices.NewSimPrinter(name).Opener(), false
}

// openScanner builds the scanner named name, from Options.Scanners or the
// config. Run (started per lane) opens the device and keeps reopening it.
func (d *Daemon) openScanner(name string) (devices.Scanner, error) {
	if s, ok := d.opts.Scanners[name]; ok {
		return s, nil
	}
	sc := d.cfg.Scanners[name]
	onErr := func(err error) {
		d.log.Warn().Str("scanner", name).Err(err).Msg("scanner problem; reopening")
	}
	switch sc.Backend {
	case "usb-hid", "hid-pos":
		mode := usb.ModeKeyboard
		if sc.Backend == "hid-pos" {
			mode = usb.ModeHIDPOS
		}
		s, err := usb.NewScanner(usb.ScannerConfig{Name: name, Mode: mode, Layout: sc.Layout, OnError: onErr,
			Match: usb.Match{VID: sc.VID, PID: sc.PID, Serial: sc.Serial}})
		if err != nil {
			return nil, fmt.Errorf("scanner.%s: %w", name, err)
		}
		return s, nil
	case "serial":
		return devices.NewSerialScanner(name, devices.SerialConfig{Port: sc.Device, Baud: sc.Baud},
			devices.LineScannerConfig{OnError: onErr}), nil
	case "network":
		return devices.NewNetworkScanner(name, sc.Address, devices.LineScannerConfig{OnError: onErr}), nil
	}
	return devices.NewSimScanner(name, nil), nil
}

// openLanes builds every lane with its devices and starts the scanners.
func (d *Daemon) openLanes(ctx context.Context) error {
	printers := map[string]devices.Printer{}
	for _, lc := range d.cfg.Lanes {
		l := newLane(d, lc)
		if lc.Printer != "" {
			p, ok := printers[lc.Printer]
			if !ok {
				var err error
				if p, err = d.openPrinter(lc.Printer); err != nil {
					return err
				}
				printers[lc.Printer] = p
			}
			l.printer = p
		}
		if lc.Scanner != "" {
			s, err := d.openScanner(lc.Scanner)
			if err != nil {
				return err
			}
			l.scanner = s
		}
		d.lanes[lc.ID] = l
		d.laneOrder = append(d.laneOrder, lc.ID)
	}
	for _, id := range d.laneOrder {
		if l := d.lanes[id]; l.scanner != nil {
			d.bg.Add(1)
			go func() {
				defer d.bg.Done()
				l.runScanner(d.work)
			}()
		}
	}
	return ctx.Err()
}

// closeDevices closes every printer once.
func (d *Daemon) closeDevices() {
	closed := map[devices.Printer]bool{}
	for _, l := range d.lanes {
		if l.printer != nil && !closed[l.printer] {
			closed[l.printer] = true
			if err := l.printer.Close(); err != nil {
				d.log.Debug().Err(err).Str("printer", l.printer.Name()).Msg("printer close")
			}
		}
	}
}
