package usb

import (
	"encoding/binary"
	"strings"
)

// DeviceID is a parsed IEEE-1284 device id, as printers report it through
// the USB printer class GET_DEVICE_ID request, e.g.
// "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;".
type DeviceID struct {
	// Manufacturer (MFG or MANUFACTURER), Model (MDL or MODEL), CommandSet
	// (CMD or COMMAND SET), Class (CLS or CLASS) and Description (DES or
	// DESCRIPTION), empty when absent.
	Manufacturer, Model, CommandSet, Class, Description string
	// Fields holds every key (upper case) and value, including the above.
	Fields map[string]string
}

// ParseDeviceID parses an IEEE-1284 device id string. Keys are case
// insensitive and the final ';' is optional (some printers drop it).
func ParseDeviceID(s string) DeviceID {
	id := DeviceID{Fields: map[string]string{}}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		id.Fields[strings.ToUpper(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	pick := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := id.Fields[k]; ok {
				return v
			}
		}
		return ""
	}
	id.Manufacturer = pick("MFG", "MANUFACTURER")
	id.Model = pick("MDL", "MODEL")
	id.CommandSet = pick("CMD", "COMMAND SET")
	id.Class = pick("CLS", "CLASS")
	id.Description = pick("DES", "DESCRIPTION")
	return id
}

// ESCPOS reports whether the command set lists ESC/POS.
func (id DeviceID) ESCPOS() bool {
	for _, c := range strings.Split(id.CommandSet, ",") {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "ESC/POS" || c == "ESCPOS" {
			return true
		}
	}
	return false
}

// parseDeviceIDReply strips the 2-byte big-endian length (which counts
// itself) from a GET_DEVICE_ID reply, trusting the byte count when the
// length field disagrees.
func parseDeviceIDReply(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	end := int(binary.BigEndian.Uint16(b))
	if end < 2 || end > len(b) {
		end = len(b)
	}
	return strings.TrimRight(string(b[2:end]), "\x00\r\n ")
}
