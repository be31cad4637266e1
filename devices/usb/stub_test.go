//go:build !cgo || nousb || windows

package usb

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/devices"
)

func TestStubsSayUnsupported(t *testing.T) {
	ctx := context.Background()
	m := Match{VID: 0x0416, PID: 0x5011}
	_, err := OpenPrinter(ctx, PrinterConfig{Match: m})
	if !errors.Is(err, devices.ErrUnsupported) || !strings.Contains(err.Error(), "serial/HID-POS/ECR-delivered") {
		t.Errorf("OpenPrinter: %v", err)
	}
	if _, err := PrinterOpener(PrinterConfig{Match: m})(ctx); !errors.Is(err, devices.ErrUnsupported) {
		t.Errorf("opener: %v", err)
	}
	if _, err := ListUSB(ctx); !errors.Is(err, devices.ErrUnsupported) {
		t.Errorf("ListUSB: %v", err)
	}
	s, err := NewScanner(ScannerConfig{Match: m})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx, nil); !errors.Is(err, devices.ErrUnsupported) {
		t.Errorf("Run: %v", err)
	}
	if Supported {
		t.Error("Supported in a stub build")
	}
}
