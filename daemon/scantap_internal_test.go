package daemon

import (
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/devices"
	"github.com/tillbridge/tillbridge/ecrproto"
)

// TestTapScansExcludesSales checks the scan-test tap: while it is set every
// scan goes to it (not the gate), a second tap and a SALE are refused, and a
// lane with a sale in flight cannot be tapped.
func TestTapScansExcludesSales(t *testing.T) {
	l := &lane{cfg: LaneConfig{ID: "1"}}
	var got []devices.Scan
	release, err := l.tapScans(func(sc devices.Scan) { got = append(got, sc) })
	if err != nil {
		t.Fatal(err)
	}
	sc := devices.Scan{Code: "281234567890123400", At: time.Now(), Source: "test"}
	if reason := l.offer(sc); reason != "scan_test" || len(got) != 1 || got[0].Code != sc.Code {
		t.Fatalf("tapped offer: %q %+v", reason, got)
	}
	if _, err := l.tapScans(func(devices.Scan) {}); err == nil {
		t.Fatal("a second scan test was allowed")
	}
	_, _, _, err = l.startSale(saleReq{ref: "R1", amount: 100, currency: "HKD"})
	if pe := ecrproto.AsError(err); err == nil || pe.Code != ecrproto.CodeLaneBusy {
		t.Fatalf("SALE during a scan test: %v", err)
	}
	release()
	l.cur = &sale{req: saleReq{ref: "R2"}}
	if _, err := l.tapScans(func(devices.Scan) {}); err == nil {
		t.Fatal("a scan test was allowed during a sale")
	}
}
