// Package hid decodes what USB HID barcode scanners send, with no USB code of
// its own, so it builds and is tested on every OS.
//
// Two scanner modes are covered:
//
//   - Keyboard wedge: the scanner is a boot keyboard and "types" the barcode
//     as 8-byte boot keyboard reports (modifier byte, reserved byte, six key
//     usages). A Decoder turns the reports back into text through a Layout
//     (us, uk, de, fr), tracking pressed keys (so a held key or a repeated
//     report is one character), Shift, AltGr, Caps Lock, and Alt+keypad
//     codes, and ends a scan on Enter, keypad Enter or Tab. The layout must
//     be the one the scanner is configured for: a scanner set to French
//     AZERTY sends Shift with every digit, and reading that as US gives
//     "!@#" instead of "123" (the classic wedge bug).
//   - HID-POS: the scanner uses the Bar Code Scanner usage page (0x8C) and
//     sends each barcode as a Scanned Data Report; see POSDecoder for the
//     report layout supported.
//
// ParseReportDescriptor reads a HID report descriptor far enough to tell a
// keyboard from a HID-POS scanner and to find the report ID of the scanned
// data report.
package hid
