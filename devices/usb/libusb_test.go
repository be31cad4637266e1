//go:build cgo && !nousb && !windows

package usb

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/gousb"
	"github.com/tillbridge/tillbridge/devices"
)

func TestClassify(t *testing.T) {
	m := Match{VID: 0x0416, PID: 0x5011}
	cases := []struct {
		err  error
		code string
	}{
		{gousb.ErrorAccess, devices.CodePermission},
		{fmt.Errorf("open: %w", gousb.ErrorAccess), devices.CodePermission},
		// gousb's Config/Interface format libusb errors with %v:
		{fmt.Errorf("failed to claim interface 0: %v", gousb.ErrorBusy), devices.CodeBusy},
		{fmt.Errorf("Can't detach kernel driver: %v", gousb.ErrorAccess), devices.CodePermission},
		{gousb.ErrorNoDevice, devices.CodeOffline},
		{gousb.TransferNoDevice, devices.CodeOffline},
		{gousb.TransferTimedOut, devices.CodeTimeout},
		{gousb.ErrorNotFound, devices.CodeNotFound},
		{gousb.TransferStall, devices.CodeIO},
		{devices.Errorf(devices.CodeConfig, "x", "kept"), devices.CodeConfig},
	}
	for _, c := range cases {
		if got := devices.CodeOf(classify(m, c.err)); got != c.code {
			t.Errorf("classify(%v) = %s, want %s", c.err, got, c.code)
		}
	}
	if classify(m, nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

func TestIOErrorContext(t *testing.T) {
	m := Match{VID: 1, PID: 2}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ioError(ctx, m, gousb.TransferCancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	dl, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	<-dl.Done()
	if err := ioError(dl, m, gousb.TransferCancelled); !errors.Is(err, devices.ErrTimeout) {
		t.Errorf("deadline: %v", err)
	}
}

// setting builds an interface setting with endpoints for the pickers.
func setting(num int, class gousb.Class, sub gousb.Class, proto gousb.Protocol, eps ...gousb.EndpointDesc) gousb.InterfaceSetting {
	s := gousb.InterfaceSetting{Number: num, Class: class, SubClass: sub, Protocol: proto, Endpoints: map[gousb.EndpointAddress]gousb.EndpointDesc{}}
	for _, e := range eps {
		s.Endpoints[e.Address] = e
	}
	return s
}

func config(settings ...gousb.InterfaceSetting) gousb.ConfigDesc {
	var cd gousb.ConfigDesc
	for _, s := range settings {
		cd.Interfaces = append(cd.Interfaces, gousb.InterfaceDesc{Number: s.Number, AltSettings: []gousb.InterfaceSetting{s}})
	}
	return cd
}

func TestPickPrinterPrefersBidirectional(t *testing.T) {
	uni := setting(0, gousb.ClassPrinter, 1, printerProtoUni)
	bi := setting(0, gousb.ClassPrinter, 1, printerProtoBi)
	bi.Alternate = 1
	cd := gousb.ConfigDesc{Interfaces: []gousb.InterfaceDesc{{Number: 0, AltSettings: []gousb.InterfaceSetting{uni, bi}}}}
	s, ok := pickPrinter(cd)
	if !ok || s.Alternate != 1 {
		t.Errorf("got %+v %v, want alternate 1", s, ok)
	}
	if _, ok := pickPrinter(config(setting(0, gousb.ClassHID, 1, 1))); ok {
		t.Error("picked a printer on a HID device")
	}
}

func TestScannerPick(t *testing.T) {
	cd := config(setting(0, gousb.ClassPrinter, 1, 2), setting(1, gousb.ClassHID, 0, 2), setting(2, gousb.ClassHID, 1, 1), setting(3, gousb.ClassHID, 0, 0))
	for mode, want := range map[string]int{ModeKeyboard: 2, ModeHIDPOS: 3} {
		s, err := NewScanner(ScannerConfig{Match: Match{VID: 1, PID: 2}, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := s.pick(cd); !ok || got.Number != want {
			t.Errorf("%s: picked %d (%v), want %d", mode, got.Number, ok, want)
		}
	}
	kbd, _ := NewScanner(ScannerConfig{Match: Match{VID: 1, PID: 2}})
	if got, ok := kbd.pick(config(setting(0, gousb.ClassHID, 0, 0))); !ok || got.Number != 0 {
		t.Error("keyboard mode should fall back to a non-boot HID interface")
	}
}

func TestEndpointPicksLowestNumber(t *testing.T) {
	in2 := gousb.EndpointDesc{Address: 0x82, Number: 2, Direction: gousb.EndpointDirectionIn, TransferType: gousb.TransferTypeBulk}
	in1 := gousb.EndpointDesc{Address: 0x81, Number: 1, Direction: gousb.EndpointDirectionIn, TransferType: gousb.TransferTypeBulk}
	out := gousb.EndpointDesc{Address: 0x01, Number: 1, Direction: gousb.EndpointDirectionOut, TransferType: gousb.TransferTypeBulk}
	s := setting(0, gousb.ClassPrinter, 1, 2, in2, in1, out)
	if e, ok := endpoint(s, gousb.EndpointDirectionIn, gousb.TransferTypeBulk); !ok || e.Number != 1 {
		t.Errorf("got %v", e)
	}
	if _, ok := endpoint(s, gousb.EndpointDirectionIn, gousb.TransferTypeInterrupt); ok {
		t.Error("found an interrupt endpoint that is not there")
	}
}

// TestNoDevice runs against whatever USB this machine has (often none):
// opening an absent device is "not_found", listing does not fail.
func TestNoDevice(t *testing.T) {
	ctx := context.Background()
	_, err := OpenPrinter(ctx, PrinterConfig{Match: Match{VID: 0xfffe, PID: 0xfffd}})
	if code := devices.CodeOf(err); code != devices.CodeNotFound && code != devices.CodeUnsupported {
		t.Errorf("OpenPrinter(absent): %v", err)
	}
	if _, err := ListUSB(ctx); err != nil && !errors.Is(err, devices.ErrUnsupported) {
		t.Errorf("ListUSB: %v", err)
	}
}

func TestScannerRunStopsWithContext(t *testing.T) {
	var errs []error
	ctx, cancel := context.WithCancel(context.Background())
	s, err := NewScanner(ScannerConfig{Match: Match{VID: 0xfffe, PID: 0xfffd}, OnError: func(e error) { errs = append(errs, e); cancel() }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx, make(chan devices.Scan)); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
	if len(errs) != 1 || (devices.CodeOf(errs[0]) != devices.CodeNotFound && devices.CodeOf(errs[0]) != devices.CodeUnsupported) {
		t.Errorf("OnError got %v", errs)
	}
}
