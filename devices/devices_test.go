package devices

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestPrinterStatusSummaryAndReady(t *testing.T) {
	tests := []struct {
		name  string
		s     PrinterStatus
		want  string
		ready bool
	}{
		{"zero value is unknown, never ok", PrinterStatus{}, StatusUnknown, false},
		{"one-way is unknown", PrinterStatus{OneWay: true, Online: true}, StatusUnknown, false},
		{"ok", PrinterStatus{Known: true, Online: true}, StatusOK, true},
		{"offline", PrinterStatus{Known: true}, StatusOffline, false},
		{"paper end beats offline", PrinterStatus{Known: true, PaperEnd: true}, StatusPaperEnd, false},
		{"cover open", PrinterStatus{Known: true, CoverOpen: true}, StatusCoverOpen, false},
		{"cutter error", PrinterStatus{Known: true, Online: true, CutterError: true}, StatusCutterError, false},
		{"near end is ready but warned", PrinterStatus{Known: true, Online: true, PaperNearEnd: true}, StatusPaperNearEnd, true},
		{"drawer open does not matter", PrinterStatus{Known: true, Online: true, DrawerOpen: true}, StatusOK, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Summary(); got != tt.want {
				t.Errorf("Summary() = %q, want %q", got, tt.want)
			}
			if got := tt.s.Ready(); got != tt.ready {
				t.Errorf("Ready() = %v, want %v", got, tt.ready)
			}
		})
	}
}

func TestDeviceErrorMatching(t *testing.T) {
	base := errors.New("open /dev/usb/lp0: permission denied")
	err := fmt.Errorf("printer front: %w", NewError(CodePermission, "usb:04b8:0202", base))
	if !errors.Is(err, ErrPermission) {
		t.Fatal("errors.Is(err, ErrPermission) = false")
	}
	if errors.Is(err, ErrNotFound) {
		t.Fatal("errors.Is(err, ErrNotFound) = true")
	}
	if !errors.Is(err, base) {
		t.Fatal("cause not reachable through Unwrap")
	}
	if got := CodeOf(err); got != CodePermission {
		t.Fatalf("CodeOf = %q", got)
	}
	if got := CodeOf(context.DeadlineExceeded); got != CodeTimeout {
		t.Fatalf("CodeOf(deadline) = %q", got)
	}
	if got := CodeOf(nil); got != "" {
		t.Fatalf("CodeOf(nil) = %q", got)
	}
	want := "usb:04b8:0202: permission_denied: open /dev/usb/lp0: permission denied"
	if got := errors.Unwrap(err).Error(); got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestStatusOf(t *testing.T) {
	st := PrinterStatus{Known: true, PaperEnd: true}
	err := NewError(CodeNotReady, "front", &StatusError{Status: st})
	got, ok := StatusOf(fmt.Errorf("print: %w", err))
	if !ok || got.Summary() != StatusPaperEnd {
		t.Fatalf("StatusOf = %+v, %v", got, ok)
	}
	if !errors.Is(err, ErrNotReady) {
		t.Fatal("not_ready not matched")
	}
	if _, ok := StatusOf(errors.New("x")); ok {
		t.Fatal("StatusOf(plain error) = ok")
	}
}
