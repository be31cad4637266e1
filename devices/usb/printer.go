//go:build cgo && !nousb && !windows

package usb

import (
	"context"
	"sync"

	"github.com/google/gousb"
	"github.com/tillbridge/tillbridge/devices"
)

// USB printer class (1.1) codes.
const (
	printerProtoUni   = 1    // unidirectional: bulk OUT only
	printerProtoBi    = 2    // bidirectional: bulk OUT and bulk IN
	reqGetDeviceID    = 0x00 // class request GET_DEVICE_ID
	reqTypeClassIface = 0xa1 // device-to-host, class, interface
	maxDeviceID       = 1024
)

// Printer is a USB printer-class device opened through libusb. It
// implements devices.Transport and devices.DeviceIDer. Like every
// Transport it is used by one goroutine at a time (devices.Printer
// serialises Write, Read, DeviceID and Close).
type Printer struct {
	m       Match
	mu      sync.Mutex // guards h against a concurrent Close
	h       *handle
	out     *gousb.OutEndpoint
	in      *gousb.InEndpoint
	inSize  int
	pending []byte // bulk IN bytes read but not yet returned
}

var (
	_ devices.Transport  = (*Printer)(nil)
	_ devices.DeviceIDer = (*Printer)(nil)
)

// OpenPrinter opens the USB printer c selects: it detaches the kernel's
// usblp driver and claims the printer-class interface (the bidirectional
// alternate setting when there is one). It fails with a *devices.DeviceError
// coded "not_found", "permission_denied" (naming the udev rule) or
// "io_error".
func OpenPrinter(ctx context.Context, c PrinterConfig) (*Printer, error) {
	if err := c.Match.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, err := openHandle(c.Match, "printer-class", pickPrinter)
	if err != nil {
		return nil, err
	}
	p := &Printer{m: c.Match, h: h}
	if err := p.endpoints(); err != nil {
		h.close()
		return nil, err
	}
	return p, nil
}

// PrinterOpener returns an Opener for the USB printer c selects. Each call
// opens the device afresh, so a printer that was unplugged or power-cycled
// is found again (with a new bus address) without restarting the daemon.
func PrinterOpener(c PrinterConfig) devices.Opener {
	return func(ctx context.Context) (devices.Transport, error) {
		p, err := OpenPrinter(ctx, c)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

// pickPrinter chooses the printer-class setting, preferring bidirectional.
func pickPrinter(cd gousb.ConfigDesc) (gousb.InterfaceSetting, bool) {
	var best gousb.InterfaceSetting
	found := false
	for _, in := range cd.Interfaces {
		for _, s := range in.AltSettings {
			if s.Class != gousb.ClassPrinter || (s.Protocol != printerProtoUni && s.Protocol != printerProtoBi) {
				continue
			}
			if !found || (s.Protocol == printerProtoBi && best.Protocol != printerProtoBi) {
				best, found = s, true
			}
		}
	}
	return best, found
}

// endpoints opens the bulk OUT endpoint and, if present, bulk IN.
func (p *Printer) endpoints() error {
	s := p.h.setting
	outDesc, ok := endpoint(s, gousb.EndpointDirectionOut, gousb.TransferTypeBulk)
	if !ok {
		return devices.Errorf(devices.CodeUnsupported, p.m.String(), "printer interface has no bulk OUT endpoint")
	}
	var err error
	if p.out, err = p.h.intf.OutEndpoint(outDesc.Number); err != nil {
		return classify(p.m, err)
	}
	if inDesc, ok := endpoint(s, gousb.EndpointDirectionIn, gousb.TransferTypeBulk); ok {
		if p.in, err = p.h.intf.InEndpoint(inDesc.Number); err != nil {
			return classify(p.m, err)
		}
		p.inSize = inDesc.MaxPacketSize
	}
	return nil
}

// Write sends b to the bulk OUT endpoint. It honours ctx's deadline.
func (p *Printer) Write(ctx context.Context, b []byte) (int, error) {
	out, err := p.endpointsOrClosed()
	if err != nil {
		return 0, err
	}
	n, err := out.WriteContext(ctx, b)
	if err != nil {
		return n, ioError(ctx, p.m, err)
	}
	return n, nil
}

// Read returns status bytes from the bulk IN endpoint, waiting until some
// arrive or ctx ends (then an error matching devices.ErrTimeout). A
// unidirectional printer returns an error matching devices.ErrOneWay.
func (p *Printer) Read(ctx context.Context, b []byte) (int, error) {
	if _, err := p.endpointsOrClosed(); err != nil {
		return 0, err
	}
	if p.in == nil {
		return 0, devices.Errorf(devices.CodeOneWay, p.m.String(), "printer interface has no bulk IN endpoint")
	}
	for len(p.pending) == 0 {
		buf := make([]byte, p.inSize)
		n, err := p.in.ReadContext(ctx, buf)
		if err != nil {
			return 0, ioError(ctx, p.m, err)
		}
		p.pending = buf[:n] // a zero-length packet: read again
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

// endpointsOrClosed returns the OUT endpoint, or "closed" after Close.
func (p *Printer) endpointsOrClosed() (*gousb.OutEndpoint, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil {
		return nil, devices.Errorf(devices.CodeClosed, p.m.String(), "printer closed")
	}
	return p.out, nil
}

// DeviceID asks the printer for its IEEE-1284 device id (USB printer class
// GET_DEVICE_ID), e.g. "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;". Parse it with
// ParseDeviceID.
func (p *Printer) DeviceID(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil {
		return "", devices.Errorf(devices.CodeClosed, p.m.String(), "printer closed")
	}
	h := p.h
	h.dev.ControlTimeout = controlTimeout(ctx)
	buf := make([]byte, maxDeviceID)
	idx := uint16(h.setting.Number)<<8 | uint16(h.setting.Alternate)
	n, err := h.dev.Control(reqTypeClassIface, reqGetDeviceID, uint16(h.cfgIdx), idx, buf)
	if err != nil {
		return "", ioError(ctx, p.m, err)
	}
	return parseDeviceIDReply(buf[:n]), nil
}

// Close releases the interface (reattaching usblp) and the device. It is
// safe to call more than once.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h != nil {
		p.h.close()
		p.h, p.out, p.in, p.pending = nil, nil, nil, nil
	}
	return nil
}

// String names the printer, e.g. "usb:0416:5011".
func (p *Printer) String() string { return p.m.String() }
