// Package devices defines the till's peripherals as tillbridge sees them:
// receipt printers (a raw byte Transport, reopened through an Opener, driven
// by a Printer) and barcode scanners (a Scanner delivering raw Scans that a
// lane's Gate accepts or drops).
//
// The package holds the shared interfaces, the typed errors, the non-USB
// backends (serial, network, Windows spooler, file, simulated), the line
// scanners, the scan Gate and discovery. ESC/POS encoding, status parsing
// and the printer driver live in devices/escpos, receipt layout in
// devices/receipt, the picture preview in devices/preview, and the gousb
// backends in devices/usb.
//
// Status fails closed: a printer that does not answer is "unknown", never OK.
package devices

import (
	"context"
	"time"
)

// PrinterStatus is a printer's real-time state. It fails closed: Known=false
// means "unknown" (no answer, one-way printer, unreadable reply) and must
// never be read as OK.
type PrinterStatus struct {
	// Known is true only when the printer answered a status request.
	Known bool
	// Online is the printer's own online flag (DLE EOT 1).
	Online bool
	// CoverOpen, PaperNearEnd, PaperEnd and CutterError come from the
	// offline-cause and paper-sensor replies (DLE EOT 2/3/4).
	CoverOpen, PaperNearEnd, PaperEnd, CutterError bool
	// DrawerOpen is the drawer-kick connector pin 3 level (DLE EOT 1).
	// Its polarity depends on the drawer; it is informational only.
	DrawerOpen bool
	// OneWay is true for printers declared one-way in configuration: they
	// cannot report status, so Known is always false for them.
	OneWay bool
	// Detail is a short human explanation (for example "no reply in 1s").
	Detail string
	// At is when the status was taken.
	At time.Time
}

// Stable status codes returned by PrinterStatus.Summary. They appear in ECR
// results, events and diagnostics, so they never change.
const (
	StatusOK           = "ok"
	StatusUnknown      = "unknown"
	StatusOffline      = "offline"
	StatusPaperEnd     = "paper_end"
	StatusPaperNearEnd = "paper_near_end"
	StatusCoverOpen    = "cover_open"
	StatusCutterError  = "cutter_error"
)

// Ready reports whether a job can be printed now: the status is known, the
// printer is online, and no cover, paper-end or cutter condition stops it.
// A near-end paper roll is still ready.
func (s PrinterStatus) Ready() bool {
	return s.Known && s.Online && !s.CoverOpen && !s.PaperEnd && !s.CutterError
}

// Summary returns one stable code for the status, most actionable first:
// "unknown", "paper_end", "cover_open", "cutter_error", "offline",
// "paper_near_end" (ready, but warn) or "ok".
func (s PrinterStatus) Summary() string {
	switch {
	case !s.Known:
		return StatusUnknown
	case s.PaperEnd:
		return StatusPaperEnd
	case s.CoverOpen:
		return StatusCoverOpen
	case s.CutterError:
		return StatusCutterError
	case !s.Online:
		return StatusOffline
	case s.PaperNearEnd:
		return StatusPaperNearEnd
	default:
		return StatusOK
	}
}

// Transport is a raw byte pipe to a printer: USB, serial, TCP 9100, the
// Windows spooler, a file or a simulation. It is used by one goroutine at a
// time (the Printer serialises access).
type Transport interface {
	// Write sends p; it honours ctx's deadline and cancellation.
	Write(ctx context.Context, p []byte) (int, error)
	// Read reads a status reply. It returns an error matching ErrOneWay if
	// the transport cannot read, and one matching ErrTimeout when ctx ends
	// before any byte arrives.
	Read(ctx context.Context, p []byte) (int, error)
	// Close releases the device; it is safe to call more than once.
	Close() error
	// String names the endpoint for logs, e.g. "tcp:10.0.0.5:9100".
	String() string
}

// Opener opens a Transport. The Printer calls it again after an error, so a
// printer that was unplugged or power-cycled comes back without restarting
// the daemon.
type Opener func(ctx context.Context) (Transport, error)

// DeviceIDer is optionally implemented by transports that can report an
// IEEE-1284 device id (USB printer class GET_DEVICE_ID), e.g.
// "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20;".
type DeviceIDer interface {
	DeviceID(ctx context.Context) (string, error)
}

// Printer is what the daemon uses to print receipts.
type Printer interface {
	// Print writes one job (ESC/POS bytes). Two-way printers check status
	// first and refuse with a *DeviceError (code "not_ready", see StatusOf)
	// when paper end, cover open, cutter error or offline.
	Print(ctx context.Context, job []byte) error
	// Status asks the printer for its real-time status. It fails closed:
	// without an answer the status has Known=false.
	Status(ctx context.Context) (PrinterStatus, error)
	// Close releases the transport.
	Close() error
	// Name is the configured printer name.
	Name() string
}

// Scan is one raw read from a scanner, before any acceptance check.
type Scan struct {
	// Code is the decoded text, as read (the Gate trims it).
	Code string
	// At is when the read completed (end-of-line or report received).
	At time.Time
	// Source names the scanner, e.g. "serial:/dev/ttyACM0" or "ecr".
	Source string
}

// Scanner delivers raw reads; the lane's Gate decides what is accepted.
type Scanner interface {
	// Run sends every read to out until ctx is done, reopening the device
	// after an unplug or error. It returns ctx.Err() when ctx ends, or an
	// error only when the scanner cannot work at all (bad configuration).
	Run(ctx context.Context, out chan<- Scan) error
	// Name is the configured scanner name.
	Name() string
}

// USB device roles as guessed by discovery.
const (
	RolePrinter       = "printer"
	RoleScannerHID    = "scanner-hid"
	RoleScannerHIDPOS = "scanner-hidpos"
	RoleSerial        = "serial"
	RoleUnknown       = "unknown"
)

// USBDevice is one USB device found by discovery. The USB backend fills it;
// `tillbridge devices` shows it.
type USBDevice struct {
	VID, PID     uint16
	Bus, Address int
	// Class is the device or interface class, e.g. "printer", "hid", "cdc".
	Class                         string
	Manufacturer, Product, Serial string
	// Role is one of the Role constants.
	Role string
	// Err explains why the device could not be inspected (for example a
	// permission problem naming the udev rule); empty when fine.
	Err string
}

// USBLister lists USB devices; devices/usb provides one, and builds without
// USB support pass nil.
type USBLister func(ctx context.Context) ([]USBDevice, error)
