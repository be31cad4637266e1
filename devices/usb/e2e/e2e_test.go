//go:build usbe2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/devices/usb"
)

// childEnv makes the test binary run a child mode instead of the tests.
const childEnv = "TILLBRIDGE_USB_E2E_CHILD"

// hang bounds every wait, so a broken case fails instead of hanging; no
// case asserts how long anything took.
const hang = 30 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "permission" {
		os.Exit(permissionChild())
	}
	os.Exit(m.Run())
}

// env is the gadget side shared by the cases.
type env struct {
	printer        *fakePrinter
	kbdDev, posDev string // /dev/hidgN of the keyboard and HID-POS functions
	acmDev         string // /dev/ttyGSN of the CDC-ACM function
}

// TestUSB creates the gadgets and runs every case in order on one boot.
func TestUSB(t *testing.T) {
	if os.Getuid() != 0 || !exists(configfsRoot) {
		t.Skip("needs root and configfs with dummy_hcd: run devices/usb/e2e/run.sh")
	}
	e := setup(t)
	cases := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"KernelDriversBound", testKernelDriversBound},
		{"ListUSB", testListUSB},
		{"PermissionDenied", testPermissionDenied},
		{"SerialCDCACM", testSerialCDCACM},
		{"PrinterDeviceIDAndStatus", testPrinterDeviceIDAndStatus},
		{"PrinterReceipt", testPrinterReceipt},
		{"PrinterPaperEndRefused", testPrinterPaperEnd},
		{"KeyboardScannerUS", testKeyboardUS},
		{"KeyboardScannerFR", testKeyboardFR},
		{"KeyboardScannerDE", testKeyboardDE},
		{"HIDPOSScanner", testHIDPOS},
		{"PrinterUnplugReplug", testPrinterUnplug},
		{"ScannerUnplugReplug", testScannerUnplug},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, e) })
	}
}

// setup creates the gadgets, waits until the host's kernel drivers bound
// them, and starts the fake printer firmware.
func setup(t *testing.T) *env {
	if err := createGadgets(); err != nil {
		t.Fatalf("create gadgets: %v", err)
	}
	for _, n := range []string{"/dev/usb/lp0", "/dev/hidraw0", "/dev/hidraw1", "/dev/ttyACM0", "/dev/g_printer0"} {
		if err := waitFor(hang, n, func() bool { return exists(n) }); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{}
	var err error
	scan := scannerGadget()
	if e.kbdDev, err = devNode(scan, "hid.kbd"); err != nil {
		t.Fatal(err)
	}
	if e.posDev, err = devNode(scan, "hid.pos"); err != nil {
		t.Fatal(err)
	}
	port, err := os.ReadFile(serialGadget().dir("functions", "acm.usb0", "port_num"))
	if err != nil {
		t.Fatal(err)
	}
	e.acmDev = "/dev/ttyGS" + strings.TrimSpace(string(port))
	if e.printer, err = startFakePrinter(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.printer.stop() })
	return e
}

// drivers returns interface -> kernel driver for the host side devices.
func drivers() map[string]string {
	out := map[string]string{}
	ifaces, _ := filepath.Glob("/sys/bus/usb/devices/*-*:*")
	for _, i := range ifaces {
		d, err := os.Readlink(filepath.Join(i, "driver"))
		if err == nil {
			out[filepath.Base(i)] = filepath.Base(d)
		}
	}
	return out
}

// testKernelDriversBound: before tillbridge touches them, the kernel's own
// drivers hold the devices (usblp, usbhid, cdc_acm), as on a real till, so
// the backends must detach them.
func testKernelDriversBound(t *testing.T, _ *env) {
	seen := map[string]bool{}
	for _, d := range drivers() {
		seen[d] = true
	}
	for _, want := range []string{"usblp", "usbhid", "cdc_acm"} {
		if !seen[want] {
			t.Errorf("kernel driver %s not bound; drivers: %v", want, drivers())
		}
	}
}

// testListUSB: discovery finds the three devices with their strings and
// roles (the HID-POS role from the report descriptor in sysfs).
func testListUSB(t *testing.T, _ *env) {
	list, err := usb.ListUSB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint16][3]string{
		printerPID: {"Test Receipt Printer", "printer", devices.RolePrinter},
		scannerPID: {"Test Barcode Scanner", "hid-keyboard+hid-pos", devices.RoleScannerHIDPOS},
		serialPID:  {"Test Serial Scanner", "cdc-acm+cdc-data", devices.RoleSerial},
	}
	for _, d := range list {
		t.Logf("%04x:%04x bus %d addr %d class=%s role=%s %q %q %q err=%q",
			d.VID, d.PID, d.Bus, d.Address, d.Class, d.Role, d.Manufacturer, d.Product, d.Serial, d.Err)
		w, ok := want[d.PID]
		if !ok || d.VID != testVID {
			continue
		}
		delete(want, d.PID)
		if d.Product != w[0] || d.Class != w[1] || d.Role != w[2] || d.Manufacturer != "Tillbridge Test" || d.Err != "" {
			t.Errorf("%04x: got product %q class %q role %q mfr %q err %q; want %v", d.PID, d.Product, d.Class, d.Role, d.Manufacturer, d.Err, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("not listed: %v", want)
	}
}

// testPermissionDenied runs this binary again as user nobody, which may
// not open /dev/bus/usb nodes: the error must be permission_denied and
// name the udev rule file and the rule for the device.
func testPermissionDenied(t *testing.T, _ *env) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=permission")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	t.Logf("child as nobody:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	rule := usb.UdevRule(testVID, printerPID)
	for _, want := range []string{"open code=permission_denied", usb.UdevRulesFile, rule, "list role=printer err=usb:1d6b:0104: permission_denied"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q", want)
		}
	}
}

// permissionChild opens the printer and lists devices without privileges
// and prints what it got.
func permissionChild() int {
	ctx := context.Background()
	_, err := usb.OpenPrinter(ctx, usb.PrinterConfig{Match: printerGadget().match()})
	fmt.Printf("open code=%s msg=%v\n", devices.CodeOf(err), err)
	list, err := usb.ListUSB(ctx)
	if err != nil {
		fmt.Printf("list failed: %v\n", err)
		return 1
	}
	for _, d := range list {
		if d.PID == printerPID {
			fmt.Printf("list role=%s err=%s\n", d.Role, d.Err)
		}
	}
	return 0
}
