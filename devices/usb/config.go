package usb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/hid"
)

// Match selects one USB device: by vendor and product id, and by serial
// number when several identical devices are plugged in.
type Match struct {
	VID, PID uint16
	// Serial, when not empty, must equal the device's serial number string.
	Serial string
}

// String formats the match as "usb:vvvv:pppp" or "usb:vvvv:pppp/SERIAL".
func (m Match) String() string {
	s := fmt.Sprintf("usb:%04x:%04x", m.VID, m.PID)
	if m.Serial != "" {
		s += "/" + m.Serial
	}
	return s
}

// validate rejects a match that cannot select a device.
func (m Match) validate() error {
	if m.VID == 0 || m.PID == 0 {
		return devices.Errorf(devices.CodeConfig, m.String(), "USB vendor and product id are required (e.g. 0416:5011)")
	}
	return nil
}

// ParseID parses "vvvv:pppp" (hexadecimal, as lsusb shows it) into a vendor
// and product id.
func ParseID(s string) (vid, pid uint16, err error) {
	v, p, ok := strings.Cut(strings.TrimSpace(s), ":")
	if ok {
		vid, err = parseHex16(v)
		if err == nil {
			pid, err = parseHex16(p)
		}
	}
	if !ok || err != nil || vid == 0 || pid == 0 {
		return 0, 0, devices.Errorf(devices.CodeConfig, "", "USB id %q: want vvvv:pppp in hexadecimal, as lsusb shows", s)
	}
	return vid, pid, nil
}

func parseHex16(s string) (uint16, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 16)
	return uint16(n), err
}

// Scanner modes.
const (
	// ModeKeyboard reads a keyboard-wedge scanner's boot keyboard reports.
	ModeKeyboard = "keyboard"
	// ModeHIDPOS reads a HID-POS scanner's scanned data reports.
	ModeHIDPOS = "hidpos"
)

// DefaultPoll is how often a missing scanner is looked for again.
const DefaultPoll = time.Second

// ScannerConfig configures a USB HID scanner.
type ScannerConfig struct {
	// Name is the configured scanner name (Scanner.Name).
	Name string
	// Match selects the device.
	Match Match
	// Mode is ModeKeyboard (default) or ModeHIDPOS.
	Mode string
	// Layout is the keyboard layout the scanner is set to (keyboard mode):
	// "us" (default), "uk", "de" or "fr"; see hid.LookupLayout.
	Layout string
	// Poll is the wait between attempts to open a missing or failed
	// scanner. Default DefaultPoll.
	Poll time.Duration
	// OnError, when set, is told each error that made the scanner reopen
	// (not found, permission denied, unplugged; a repeat of the previous
	// error while the scanner stays missing is not told again) and each
	// report that could not be decoded, for logs and diagnostics. It is
	// called from Run's goroutine and must not block.
	OnError func(error)
	// OnOpen, when set, is called each time the scanner is open and
	// reading (after start-up and after every replug).
	OnOpen func()
	// Now is the clock stamped on scans; default time.Now.
	Now func() time.Time
}

// Scanner is a USB HID barcode scanner; it implements devices.Scanner.
type Scanner struct {
	cfg    ScannerConfig
	layout *hid.Layout

	mu    sync.Mutex
	state devices.DeviceState
}

var _ devices.Scanner = (*Scanner)(nil)

// NewScanner validates c and returns a scanner. It does not touch the
// device: Run opens it and keeps reopening it.
func NewScanner(c ScannerConfig) (*Scanner, error) {
	if err := c.Match.validate(); err != nil {
		return nil, err
	}
	if c.Mode == "" {
		c.Mode = ModeKeyboard
	}
	if c.Mode != ModeKeyboard && c.Mode != ModeHIDPOS {
		return nil, devices.Errorf(devices.CodeConfig, c.Match.String(), "scanner mode %q: want %q or %q", c.Mode, ModeKeyboard, ModeHIDPOS)
	}
	l, err := hid.LookupLayout(c.Layout)
	if err != nil {
		return nil, devices.NewError(devices.CodeConfig, c.Match.String(), err)
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Name == "" {
		c.Name = c.Match.String()
	}
	s := &Scanner{cfg: c, layout: l}
	s.state = devices.DeviceState{Name: c.Name, Kind: "scanner", Endpoint: s.source(), State: "stopped", Since: c.Now()}
	return s, nil
}

// State returns the scanner's connection state ("stopped", "connecting",
// "connected") and its last error, for diagnostics.
func (s *Scanner) State() devices.DeviceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// setState records a state change and the error that caused it.
func (s *Scanner) setState(state string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.State != state {
		s.state.Since = s.cfg.Now()
	}
	s.state.State, s.state.Detail = state, ""
	if err != nil {
		s.state.Detail = err.Error()
	}
}

// Name is the configured scanner name.
func (s *Scanner) Name() string { return s.cfg.Name }

// source names the scanner in Scan.Source.
func (s *Scanner) source() string { return s.cfg.Match.String() + "/" + s.cfg.Mode }

// report records err as the reason for reconnecting and passes it to
// OnError.
func (s *Scanner) report(err error) {
	s.setState("connecting", err)
	if s.cfg.OnError != nil && err != nil {
		s.cfg.OnError(err)
	}
}

// wait sleeps for the poll interval or until ctx ends.
func (s *Scanner) wait(ctx context.Context) error {
	t := time.NewTimer(s.cfg.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PrinterConfig configures a USB printer.
type PrinterConfig struct {
	// Match selects the device.
	Match Match
}
