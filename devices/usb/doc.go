// Package usb drives USB receipt printers and barcode scanners directly
// through libusb (github.com/google/gousb), without kernel drivers or CUPS:
//
//   - Printer: a devices.Transport on the USB printer class (interface
//     class 7): bulk OUT for the job, bulk IN for status replies, and the
//     IEEE-1284 device id (GET_DEVICE_ID). PrinterOpener opens it afresh
//     after an unplug or power cycle.
//   - Scanner: a devices.Scanner for HID scanners, either keyboard wedge
//     (boot keyboard reports decoded with a devices/hid layout) or HID-POS
//     (Bar Code Scanner page 0x8C). The kernel's usbhid driver is detached
//     while tillbridge reads, so scans never reach the console or desktop,
//     and the scanner is reopened when it comes back after an unplug.
//   - ListUSB: discovery for `tillbridge devices`, with each device's likely
//     role.
//
// On Linux, access needs a udev rule (see UdevRulesFile and UdevRule); a
// denied open returns a devices.DeviceError with code "permission_denied"
// whose message names the rule.
//
// gousb needs cgo and libusb. Every Windows build (Debian has no mingw
// libusb), every CGO_ENABLED=0 build and every build with the "nousb" tag
// gets the same API from stub files, whose calls fail with code
// "unsupported": use a serial or CDC-ACM scanner, or scans delivered by the
// ECR there. Supported tells which build this is.
package usb
