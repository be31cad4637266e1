// Package e2e holds the real-USB end-to-end tests of devices/usb. They are
// built with the usbe2e tag into a test binary that runs as PID 1's child
// in a QEMU guest, where Linux USB gadgets (dummy_hcd and configfs printer,
// HID and CDC-ACM functions) are real USB devices on an emulated host
// controller: the backends go through libusb, usbfs and the kernel's USB
// core exactly as on a till. run.sh builds the binary, packs the guest and
// boots it; `make test-usb` runs run.sh. See docs/usb-testing.md.
package e2e
