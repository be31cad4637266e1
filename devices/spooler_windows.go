//go:build windows

package devices

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	winspool             = windows.NewLazySystemDLL("winspool.drv")
	procOpenPrinterW     = winspool.NewProc("OpenPrinterW")
	procClosePrinter     = winspool.NewProc("ClosePrinter")
	procStartDocPrinterW = winspool.NewProc("StartDocPrinterW")
	procEndDocPrinter    = winspool.NewProc("EndDocPrinter")
	procStartPagePrinter = winspool.NewProc("StartPagePrinter")
	procEndPagePrinter   = winspool.NewProc("EndPagePrinter")
	procWritePrinter     = winspool.NewProc("WritePrinter")
)

// docInfo1 is DOC_INFO_1W.
type docInfo1 struct {
	docName    *uint16
	outputFile *uint16
	datatype   *uint16
}

func spoolerOpener(printer string) Opener {
	name := "spooler:" + printer
	return func(ctx context.Context) (Transport, error) {
		p, err := windows.UTF16PtrFromString(printer)
		if err != nil {
			return nil, NewError(CodeConfig, name, err)
		}
		var h windows.Handle
		r, _, e := procOpenPrinterW.Call(uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&h)), 0)
		if r == 0 {
			return nil, spoolError(name, "OpenPrinter", e)
		}
		return &spoolTransport{h: h, name: name}, nil
	}
}

// spoolError classifies a winspool failure.
func spoolError(name, op string, e error) error {
	err := fmt.Errorf("%s: %w", op, e)
	switch {
	case errors.Is(e, windows.ERROR_INVALID_PRINTER_NAME):
		return NewError(CodeNotFound, name, err)
	case errors.Is(e, windows.ERROR_ACCESS_DENIED):
		return NewError(CodePermission, name, err)
	}
	return NewError(CodeOffline, name, err)
}

type spoolTransport struct {
	mu   sync.Mutex
	h    windows.Handle
	name string
}

func (t *spoolTransport) String() string { return t.name }

// Write sends p as one RAW spooler document.
func (t *spoolTransport) Write(ctx context.Context, p []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, NewError(CodeTimeout, t.name, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.h == 0 {
		return 0, Errorf(CodeClosed, t.name, "printer closed")
	}
	doc, _ := windows.UTF16PtrFromString("tillbridge receipt")
	raw, _ := windows.UTF16PtrFromString("RAW")
	di := docInfo1{docName: doc, datatype: raw}
	if r, _, e := procStartDocPrinterW.Call(uintptr(t.h), 1, uintptr(unsafe.Pointer(&di))); r == 0 {
		return 0, spoolError(t.name, "StartDocPrinter", e)
	}
	defer procEndDocPrinter.Call(uintptr(t.h))
	if r, _, e := procStartPagePrinter.Call(uintptr(t.h)); r == 0 {
		return 0, spoolError(t.name, "StartPagePrinter", e)
	}
	defer procEndPagePrinter.Call(uintptr(t.h))
	if len(p) == 0 {
		return 0, nil
	}
	var written uint32
	r, _, e := procWritePrinter.Call(uintptr(t.h), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), uintptr(unsafe.Pointer(&written)))
	if r == 0 {
		return int(written), spoolError(t.name, "WritePrinter", e)
	}
	return int(written), nil
}

func (t *spoolTransport) Read(ctx context.Context, p []byte) (int, error) {
	return 0, Errorf(CodeOneWay, t.name, "the Windows spooler cannot return printer status; declare the printer one-way or use the usb/serial/network backend")
}

func (t *spoolTransport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.h == 0 {
		return nil
	}
	procClosePrinter.Call(uintptr(t.h))
	t.h = 0
	return nil
}
