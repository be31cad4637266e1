//go:build !cgo || nousb || windows

// Package libusbcheck stops a build that would use libusb (devices/usb
// through gousb) on a machine without its development files, with a
// message that says what to install. This build does not use libusb.
package libusbcheck
