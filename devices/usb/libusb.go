//go:build cgo && !nousb && !windows

package usb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/gousb"
	"github.com/tillbridge/tillbridge/devices"
	_ "github.com/tillbridge/tillbridge/devices/usb/libusbcheck" // a clear message when libusb-1.0-0-dev is missing
)

// Supported is true in builds with USB support (cgo and libusb).
const Supported = true

// defaultControlTimeout bounds control requests when ctx has no deadline.
const defaultControlTimeout = 5 * time.Second

// newContext starts libusb. gousb panics when libusb_init fails (for
// example without usbfs); that becomes an "unsupported" error here.
func newContext() (c *gousb.Context, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, devices.Errorf(devices.CodeUnsupported, "usb", "libusb cannot start: %v", r)
		}
	}()
	return gousb.NewContext(), nil
}

// isLibusb reports whether err is libusb error code. gousb wraps some
// errors with %v (Config, Interface), so the message is matched too.
func isLibusb(err error, code gousb.Error) bool {
	return errors.Is(err, code) || strings.Contains(err.Error(), code.Error())
}

// classify turns a gousb error about device m into a *devices.DeviceError
// with a stable code.
func classify(m Match, err error) error {
	var de *devices.DeviceError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return err
	case isLibusb(err, gousb.ErrorAccess):
		return permissionDenied(m, err)
	case isLibusb(err, gousb.ErrorNoDevice) || errors.Is(err, gousb.TransferNoDevice):
		return devices.NewError(devices.CodeOffline, m.String(), fmt.Errorf("device unplugged or powered off: %w", err))
	case isLibusb(err, gousb.ErrorBusy):
		return devices.NewError(devices.CodeBusy, m.String(), fmt.Errorf("interface busy, another program holds it: %w", err))
	case isLibusb(err, gousb.ErrorTimeout) || errors.Is(err, gousb.TransferTimedOut):
		return devices.NewError(devices.CodeTimeout, m.String(), err)
	case isLibusb(err, gousb.ErrorNotFound):
		return devices.NewError(devices.CodeNotFound, m.String(), err)
	}
	return devices.NewError(devices.CodeIO, m.String(), err)
}

// ioError classifies err from a transfer that ran under ctx: a deadline
// is a timeout, a cancellation is returned as ctx.Err() wrapped.
func ioError(ctx context.Context, m Match, err error) error {
	switch ctx.Err() {
	case nil:
		return classify(m, err)
	case context.DeadlineExceeded:
		return devices.NewError(devices.CodeTimeout, m.String(), ctx.Err())
	}
	return fmt.Errorf("%s: %w", m, ctx.Err())
}

// controlTimeout is the time left before ctx's deadline, or the default.
func controlTimeout(ctx context.Context) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return defaultControlTimeout
	}
	if left := time.Until(d); left > time.Millisecond {
		return left
	}
	return time.Millisecond
}

// openDevice opens the device matching m, or fails with "not_found" or
// "permission_denied".
func openDevice(uctx *gousb.Context, m Match) (*gousb.Device, error) {
	devs, err := uctx.OpenDevices(func(d *gousb.DeviceDesc) bool {
		return uint16(d.Vendor) == m.VID && uint16(d.Product) == m.PID
	})
	var found *gousb.Device
	for _, d := range devs {
		if found == nil && serialMatches(d, m.Serial) {
			found = d
			continue
		}
		d.Close()
	}
	switch {
	case found != nil:
		return found, nil
	case err != nil:
		return nil, classify(m, err)
	}
	return nil, devices.Errorf(devices.CodeNotFound, m.String(), "no such USB device plugged in")
}

// serialMatches reports whether d has serial number want ("" matches all).
func serialMatches(d *gousb.Device, want string) bool {
	if want == "" {
		return true
	}
	d.ControlTimeout = defaultControlTimeout
	got, err := d.SerialNumber()
	return err == nil && strings.TrimSpace(got) == want
}

// handle is an open device with its active configuration and one claimed
// interface. Every field is released by close.
type handle struct {
	m       Match
	uctx    *gousb.Context
	dev     *gousb.Device
	cfg     *gousb.Config
	cfgIdx  int // configuration index (not number), for GET_DEVICE_ID
	intf    *gousb.Interface
	setting gousb.InterfaceSetting
}

// picker chooses the interface setting to claim from the configuration.
type picker func(gousb.ConfigDesc) (gousb.InterfaceSetting, bool)

// openHandle opens the device matching m with kernel drivers detached and
// claims the interface pick chooses.
func openHandle(m Match, what string, pick picker) (*handle, error) {
	uctx, err := newContext()
	if err != nil {
		return nil, err
	}
	h := &handle{m: m, uctx: uctx}
	if err := h.open(what, pick); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// open does openHandle's work on h; the caller closes h on error.
func (h *handle) open(what string, pick picker) error {
	dev, err := openDevice(h.uctx, h.m)
	if err != nil {
		return err
	}
	h.dev = dev
	dev.ControlTimeout = defaultControlTimeout
	// Linux detaches usblp/usbhid/cdc_acm; elsewhere libusb says "not
	// supported" and there is no kernel driver to detach.
	if err := dev.SetAutoDetach(true); err != nil && !errors.Is(err, gousb.ErrorNotSupported) {
		return classify(h.m, fmt.Errorf("detach kernel driver: %w", err))
	}
	num, err := dev.ActiveConfigNum()
	if err != nil || num == 0 {
		num = firstConfig(dev.Desc)
	}
	if h.cfg, err = dev.Config(num); err != nil {
		return classify(h.m, err)
	}
	h.cfgIdx = configIndex(dev.Desc, num)
	s, ok := pick(h.cfg.Desc)
	if !ok {
		return devices.Errorf(devices.CodeNotFound, h.m.String(), "device has no %s interface", what)
	}
	return h.claim(s)
}

// claim claims interface setting s, releasing one claimed before.
func (h *handle) claim(s gousb.InterfaceSetting) error {
	if h.intf != nil {
		h.intf.Close()
		h.intf = nil
	}
	intf, err := h.cfg.Interface(s.Number, s.Alternate)
	if err != nil {
		return classify(h.m, err)
	}
	h.intf, h.setting = intf, s
	return nil
}

// close releases the interface, the configuration, the device and libusb.
// Errors are ignored: after an unplug every step fails, harmlessly.
func (h *handle) close() {
	if h.intf != nil {
		h.intf.Close()
	}
	if h.cfg != nil {
		h.cfg.Close()
	}
	if h.dev != nil {
		h.dev.Close()
	}
	if h.uctx != nil {
		h.uctx.Close()
	}
	*h = handle{m: h.m}
}

// firstConfig returns the lowest configuration number of the device.
func firstConfig(d *gousb.DeviceDesc) int {
	best := 0
	for n := range d.Configs {
		if best == 0 || n < best {
			best = n
		}
	}
	return best
}

// configIndex returns the zero-based index of configuration num.
func configIndex(d *gousb.DeviceDesc, num int) int {
	idx := 0
	for n := range d.Configs {
		if n < num {
			idx++
		}
	}
	return idx
}

// endpoint returns the first endpoint of s with the direction and type.
func endpoint(s gousb.InterfaceSetting, dir gousb.EndpointDirection, tt gousb.TransferType) (gousb.EndpointDesc, bool) {
	var best gousb.EndpointDesc
	found := false
	for _, ep := range s.Endpoints {
		if ep.Direction == dir && ep.TransferType == tt && (!found || ep.Number < best.Number) {
			best, found = ep, true
		}
	}
	return best, found
}
