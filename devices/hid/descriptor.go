package hid

import "fmt"

// Usage pages and usages used to classify HID interfaces.
const (
	UsagePageGenericDesktop = 0x01
	UsagePageKeyboard       = 0x07
	UsageKeyboard           = 0x06 // Generic Desktop: Keyboard
	UsageMouse              = 0x02 // Generic Desktop: Mouse
)

// ReportInfo is what ParseReportDescriptor learns from a report descriptor.
type ReportInfo struct {
	// Keyboard is set when an application collection is a keyboard.
	Keyboard bool
	// BarcodeScanner is set when an application collection is on the Bar
	// Code Scanner page (0x8C): a HID-POS scanner.
	BarcodeScanner bool
	// UsesReportIDs is set when the descriptor declares report IDs, so
	// every input report starts with its ID.
	UsesReportIDs bool
	// ScannedData is set when an input item carries Decoded Data (0xFE);
	// ScannedDataReportID is the report ID in effect there (0 without IDs).
	ScannedData         bool
	ScannedDataReportID byte
}

// POSFormat returns the framing of this device's scanned data reports:
// the report ID found in the descriptor, or DefaultPOSReportID when the
// descriptor declares IDs but no Decoded Data item.
func (ri ReportInfo) POSFormat() POSFormat {
	switch {
	case ri.ScannedData:
		return POSFormat{ReportID: ri.ScannedDataReportID}
	case ri.UsesReportIDs:
		return POSFormat{ReportID: DefaultPOSReportID}
	}
	return POSFormat{}
}

// Item types and tags of the HID 1.11 short item encoding.
const (
	itemMain   = 0
	itemGlobal = 1
	itemLocal  = 2
	longItem   = 0xfe

	tagInput         = 0x8
	tagCollection    = 0xa
	tagUsagePage     = 0x0
	tagReportID      = 0x8
	tagPush          = 0xa
	tagPop           = 0xb
	tagUsage         = 0x0
	collApplication  = 0x01
	maxGlobalStack   = 16
	maxDescriptorLen = 4096
)

// globals is the part of the global item state this parser tracks.
type globals struct {
	page     uint16
	reportID byte
}

// descParser walks a report descriptor's items.
type descParser struct {
	g      globals
	stack  []globals
	usages []uint32 // local usages (page<<16 | id) since the last main item
	info   ReportInfo
}

// ParseReportDescriptor reads a HID report descriptor far enough to tell
// keyboards from HID-POS scanners and to find the scanned data report's ID.
// It returns an error matching ErrBadDescriptor for a truncated item or a
// descriptor over 4 KiB.
func ParseReportDescriptor(desc []byte) (ReportInfo, error) {
	if len(desc) > maxDescriptorLen {
		return ReportInfo{}, newError(CodeBadDescriptor, fmt.Sprintf("%d bytes", len(desc)))
	}
	var p descParser
	for i := 0; i < len(desc); {
		prefix := desc[i]
		if prefix == longItem {
			if i+1 >= len(desc) {
				return ReportInfo{}, newError(CodeBadDescriptor, "truncated long item")
			}
			i += 3 + int(desc[i+1])
			continue
		}
		size := int(prefix & 3)
		if size == 3 {
			size = 4
		}
		if i+1+size > len(desc) {
			return ReportInfo{}, newError(CodeBadDescriptor, fmt.Sprintf("item at offset %d truncated", i))
		}
		p.item(prefix>>2&3, prefix>>4, le(desc[i+1:i+1+size]), size)
		i += 1 + size
	}
	return p.info, nil
}

// le reads a little-endian unsigned value of up to 4 bytes.
func le(b []byte) uint32 {
	var v uint32
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint32(b[i])
	}
	return v
}

// item applies one short item.
func (p *descParser) item(typ, tag byte, v uint32, size int) {
	switch typ {
	case itemGlobal:
		p.global(tag, v)
	case itemLocal:
		if tag == tagUsage {
			if size < 4 {
				v = uint32(p.g.page)<<16 | v
			}
			p.usages = append(p.usages, v)
		}
	case itemMain:
		p.main(tag, v)
		p.usages = p.usages[:0]
	}
}

// global applies a global item.
func (p *descParser) global(tag byte, v uint32) {
	switch tag {
	case tagUsagePage:
		p.g.page = uint16(v)
	case tagReportID:
		p.g.reportID = byte(v)
		p.info.UsesReportIDs = true
	case tagPush:
		if len(p.stack) < maxGlobalStack {
			p.stack = append(p.stack, p.g)
		}
	case tagPop:
		if n := len(p.stack); n > 0 {
			p.g, p.stack = p.stack[n-1], p.stack[:n-1]
		}
	}
}

// main applies a main item: collections classify the device, inputs find
// the decoded data field.
func (p *descParser) main(tag byte, v uint32) {
	for _, u := range p.usages {
		page, id := uint16(u>>16), uint16(u)
		switch {
		case tag == tagCollection && v == collApplication && page == UsagePageGenericDesktop && id == UsageKeyboard:
			p.info.Keyboard = true
		case tag == tagCollection && v == collApplication && page == UsagePageBarcodeScanner:
			p.info.BarcodeScanner = true
		case tag == tagInput && page == UsagePageBarcodeScanner && id == UsageDecodedData && !p.info.ScannedData:
			p.info.ScannedData = true
			p.info.ScannedDataReportID = p.g.reportID
		}
	}
}
