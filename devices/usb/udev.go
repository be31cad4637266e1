package usb

import (
	"fmt"

	"github.com/tillbridge/tillbridge/devices"
)

// UdevRulesFile is where `tillbridge install` puts the udev rules that let
// the service group open the configured USB devices.
const UdevRulesFile = "/etc/udev/rules.d/70-tillbridge.rules"

// ServiceGroup is the group the tillbridge service runs in; the udev rule
// gives it access.
const ServiceGroup = "tillbridge"

// UdevRule returns the one-line udev rule that gives the service group
// read-write access to the device vid:pid.
func UdevRule(vid, pid uint16) string {
	return fmt.Sprintf(`SUBSYSTEM=="usb", ATTR{idVendor}=="%04x", ATTR{idProduct}=="%04x", MODE="0660", GROUP="%s"`, vid, pid, ServiceGroup)
}

// PermissionError is the cause inside a "permission_denied" DeviceError:
// the OS refused to open the device. Its message says how to fix it.
type PermissionError struct {
	VID, PID uint16
	// Err is libusb's error.
	Err error
}

// Error names the udev rule file and the rule for this device.
func (e *PermissionError) Error() string {
	return fmt.Sprintf("access to USB device %04x:%04x denied (%v); the udev rule in %s fixes it "+
		"(tillbridge install writes it; or add this line, then run `udevadm control --reload && udevadm trigger` "+
		"and replug the device): %s", e.VID, e.PID, e.Err, UdevRulesFile, UdevRule(e.VID, e.PID))
}

// Unwrap returns libusb's error.
func (e *PermissionError) Unwrap() error { return e.Err }

// permissionDenied builds the "permission_denied" error for device m.
func permissionDenied(m Match, err error) *devices.DeviceError {
	return devices.NewError(devices.CodePermission, m.String(), &PermissionError{VID: m.VID, PID: m.PID, Err: err})
}
