//go:build !cgo || nousb || windows

package usb

import (
	"context"

	"github.com/tillbridge/tillbridge/devices"
)

// Supported is false: this binary was built without USB support.
const Supported = false

// errNotBuilt is the error of every call in builds without USB support.
func errNotBuilt(device string) error {
	return devices.Errorf(devices.CodeUnsupported, device,
		"USB support not built in this binary; use serial/HID-POS/ECR-delivered scans")
}

// Printer is a USB printer. In this build it cannot be opened.
type Printer struct{ m Match }

var (
	_ devices.Transport  = (*Printer)(nil)
	_ devices.DeviceIDer = (*Printer)(nil)
	_ devices.Scanner    = (*Scanner)(nil)
	_ devices.USBLister  = ListUSB
)

// OpenPrinter fails with code "unsupported" in this build.
func OpenPrinter(ctx context.Context, c PrinterConfig) (*Printer, error) {
	return nil, errNotBuilt(c.Match.String())
}

// PrinterOpener returns an Opener that fails with code "unsupported".
func PrinterOpener(c PrinterConfig) devices.Opener {
	return func(ctx context.Context) (devices.Transport, error) {
		return nil, errNotBuilt(c.Match.String())
	}
}

// Write fails with code "unsupported".
func (p *Printer) Write(ctx context.Context, b []byte) (int, error) {
	return 0, errNotBuilt(p.String())
}

// Read fails with code "unsupported".
func (p *Printer) Read(ctx context.Context, b []byte) (int, error) { return 0, errNotBuilt(p.String()) }

// DeviceID fails with code "unsupported".
func (p *Printer) DeviceID(ctx context.Context) (string, error) { return "", errNotBuilt(p.String()) }

// Close does nothing.
func (p *Printer) Close() error { return nil }

// String names the printer, e.g. "usb:0416:5011".
func (p *Printer) String() string { return p.m.String() }

// Run fails at once with code "unsupported": the scanner cannot work in
// this build.
func (s *Scanner) Run(ctx context.Context, out chan<- devices.Scan) error {
	err := errNotBuilt(s.cfg.Match.String())
	s.setState("stopped", err)
	return err
}

// ListUSB fails with code "unsupported" in this build.
func ListUSB(ctx context.Context) ([]devices.USBDevice, error) {
	return nil, errNotBuilt("usb")
}
