//go:build !windows

package devices

import "context"

func spoolerOpener(printer string) Opener {
	return func(ctx context.Context) (Transport, error) {
		return nil, Errorf(CodeUnsupported, "spooler:"+printer,
			"the Windows spooler backend works only on Windows; use the usb, serial, network or file backend here")
	}
}
