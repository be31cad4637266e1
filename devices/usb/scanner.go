//go:build cgo && !nousb && !windows

package usb

import (
	"context"

	"github.com/google/gousb"
	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/hid"
)

// HID class requests and descriptor types.
const (
	hidSubclassBoot     = 1
	reqTypeClassOut     = 0x21 // host-to-device, class, interface
	reqTypeStdIfaceIn   = 0x81 // device-to-host, standard, interface
	reqGetDescriptor    = 0x06
	reqSetIdle          = 0x0a
	reqSetProtocol      = 0x0b
	descReport          = 0x22
	protocolBoot        = 0
	maxReportDescriptor = 4096
)

// Run reads scans until ctx ends, sending each to out. It opens the
// scanner (detaching usbhid, so scans no longer reach the console), reads
// its interrupt IN endpoint, and when the scanner is missing, unplugged or
// fails, reports the error to OnError and tries again every Poll. The same
// error repeated while the scanner stays missing is reported once. It
// returns ctx.Err() when ctx ends.
func (s *Scanner) Run(ctx context.Context, out chan<- devices.Scan) error {
	defer s.setState("stopped", nil)
	last := ""
	for {
		s.setState("connecting", nil)
		opened, err := s.session(ctx, out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if opened {
			last = ""
		}
		if msg := err.Error(); msg != last {
			s.report(err)
			last = msg
		} else {
			s.setState("connecting", err)
		}
		if err := s.wait(ctx); err != nil {
			return err
		}
	}
}

// session opens the scanner once and reads until an error or ctx ends.
// opened tells whether it got as far as reading.
func (s *Scanner) session(ctx context.Context, out chan<- devices.Scan) (opened bool, err error) {
	h, err := openHandle(s.cfg.Match, "HID "+s.cfg.Mode, s.pick)
	if err != nil {
		return false, err
	}
	defer h.close()
	feed := s.prepare(ctx, h)
	epDesc, ok := endpoint(h.setting, gousb.EndpointDirectionIn, gousb.TransferTypeInterrupt)
	if !ok {
		return false, devices.Errorf(devices.CodeUnsupported, s.cfg.Match.String(), "HID interface has no interrupt IN endpoint")
	}
	ep, err := h.intf.InEndpoint(epDesc.Number)
	if err != nil {
		return false, classify(s.cfg.Match, err)
	}
	s.setState("connected", nil)
	if s.cfg.OnOpen != nil {
		s.cfg.OnOpen()
	}
	return true, s.read(ctx, ep, epDesc.MaxPacketSize, feed, out)
}

// feeder decodes one report into zero or more scanned codes.
type feeder func(report []byte) ([]string, error)

// read reads reports of up to size bytes (one packet per read, so a
// full-size report is never merged with the next) until an error.
func (s *Scanner) read(ctx context.Context, ep *gousb.InEndpoint, size int, feed feeder, out chan<- devices.Scan) error {
	buf := make([]byte, size)
	for {
		n, err := ep.ReadContext(ctx, buf)
		if err != nil {
			return ioError(ctx, s.cfg.Match, err)
		}
		codes, err := feed(buf[:n])
		if err != nil && s.cfg.OnError != nil {
			s.cfg.OnError(err) // a bad report or over-long scan; keep reading
		}
		for _, c := range codes {
			select {
			case out <- devices.Scan{Code: c, At: s.cfg.Now(), Source: s.source()}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// pick chooses the HID interface: the boot keyboard for keyboard mode, the
// first HID interface that is neither boot keyboard nor mouse for HID-POS.
func (s *Scanner) pick(cd gousb.ConfigDesc) (gousb.InterfaceSetting, bool) {
	var fallback *gousb.InterfaceSetting
	for _, in := range cd.Interfaces {
		st := in.AltSettings[0]
		if st.Class != gousb.ClassHID {
			continue
		}
		kbd := st.Protocol == hidProtoKeyboard
		switch {
		case s.cfg.Mode == ModeKeyboard && kbd:
			return st, true
		case s.cfg.Mode == ModeHIDPOS && !kbd && st.Protocol != hidProtoMouse:
			return st, true
		case fallback == nil && st.Protocol != hidProtoMouse:
			fallback = &st
		}
	}
	if fallback != nil && s.cfg.Mode == ModeKeyboard {
		return *fallback, true // a keyboard without the boot subclass
	}
	return gousb.InterfaceSetting{}, false
}

// prepare sets the claimed interface up for reading and returns its
// decoder: boot protocol and no idle repeats for a keyboard, the scanned
// data report's framing (from the report descriptor) for HID-POS.
func (s *Scanner) prepare(ctx context.Context, h *handle) feeder {
	iface := uint16(h.setting.Number)
	h.dev.ControlTimeout = controlTimeout(ctx)
	if s.cfg.Mode == ModeKeyboard {
		if h.setting.SubClass == hidSubclassBoot {
			// Best effort: some scanners stall these; usbhid set report
			// protocol, which is the same format on boot keyboards.
			_, _ = h.dev.Control(reqTypeClassOut, reqSetProtocol, protocolBoot, iface, nil)
		}
		_, _ = h.dev.Control(reqTypeClassOut, reqSetIdle, 0, iface, nil)
		return hid.NewDecoder(s.layout).Feed
	}
	f := hid.POSFormat{ReportID: hid.DefaultPOSReportID}
	buf := make([]byte, maxReportDescriptor)
	if n, err := h.dev.Control(reqTypeStdIfaceIn, reqGetDescriptor, descReport<<8, iface, buf); err == nil {
		if info, err := hid.ParseReportDescriptor(buf[:n]); err == nil {
			f = info.POSFormat()
		}
	}
	d := &hid.POSDecoder{Format: f}
	return func(r []byte) ([]string, error) {
		b, ok, err := d.Feed(r)
		if !ok {
			return nil, err
		}
		return []string{string(b.Data)}, nil
	}
}
