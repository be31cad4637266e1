//go:build cgo && !nousb && !windows

// Package libusbcheck stops a build that would use libusb (devices/usb
// through gousb) on a machine without its development files, with a
// message that says what to install. gousb's own failure is only
// pkg-config's "Package libusb-1.0 was not found in the pkg-config search
// path"; Go prints this package's #error next to it.
package libusbcheck

/*
#if !__has_include(<libusb-1.0/libusb.h>)
#error "tillbridge: USB printing and scanning need libusb's development files: install libusb-1.0-0-dev and pkg-config (Debian/Ubuntu: sudo apt-get install libusb-1.0-0-dev pkg-config), or build without USB support: go build -tags nousb ./..."
#endif
*/
import "C"
