package devices

import (
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	const code = "286012345678901234" // 18 digits, starts 28
	tests := []struct {
		name   string
		arm    bool
		now    time.Time // clock at Offer
		scan   Scan
		ok     bool
		reason string
		masked string
	}{
		{"accepted", true, t0.Add(time.Second), Scan{Code: code, At: t0.Add(time.Second)}, true, "", ""},
		{"trimmed CR LF and spaces", true, t0.Add(time.Second), Scan{Code: " " + code + "\r\n", At: t0.Add(time.Second)}, true, "", ""},
		{"not armed", false, t0.Add(time.Second), Scan{Code: code, At: t0.Add(time.Second)}, false, DropNotWaiting, "**************1234"},
		{"read before arm", true, t0.Add(time.Second), Scan{Code: code, At: t0.Add(-time.Millisecond)}, false, DropStale, "**************1234"},
		{"older than 5 s", true, t0.Add(7 * time.Second), Scan{Code: code, At: t0.Add(time.Second)}, false, DropStale, "**************1234"},
		{"exactly 5 s is fine", true, t0.Add(6 * time.Second), Scan{Code: code, At: t0.Add(time.Second)}, true, "", ""},
		{"zero time is stale", true, t0.Add(time.Second), Scan{Code: code}, false, DropStale, "**************1234"},
		{"16 digits ok", true, t0, Scan{Code: "2512345678901234", At: t0}, true, "", ""},
		{"24 digits ok", true, t0, Scan{Code: "301234567890123456789012", At: t0}, true, "", ""},
		{"15 digits", true, t0, Scan{Code: "251234567890123", At: t0}, false, DropNotAlipay, "***********0123"},
		{"25 digits", true, t0, Scan{Code: "3012345678901234567890123", At: t0}, false, DropNotAlipay, "*********************0123"},
		{"prefix 24", true, t0, Scan{Code: "241234567890123456", At: t0}, false, DropNotAlipay, "**************3456"},
		{"prefix 31", true, t0, Scan{Code: "311234567890123456", At: t0}, false, DropNotAlipay, "**************3456"},
		{"WeChat 13 prefix", true, t0, Scan{Code: "134567890123456789", At: t0}, false, DropNotAlipay, "**************6789"},
		{"letters", true, t0, Scan{Code: "28601234567890123A", At: t0}, false, DropNotAlipay, "**************123A"},
		{"AZERTY-mangled digits", true, t0, Scan{Code: "é(-è_çà)=", At: t0}, false, DropNotAlipay, "*****çà)="},
		{"ticket barcode", true, t0, Scan{Code: "T-1", At: t0}, false, DropNotAlipay, "***"},
		{"empty", true, t0, Scan{Code: "\r\n", At: t0}, false, DropNotAlipay, ""},
		{"not waiting beats bad code", false, t0, Scan{Code: "x", At: t0}, false, DropNotWaiting, "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var drops []Drop
			g := NewGate(GateConfig{Now: func() time.Time { return tt.now }, OnDrop: func(d Drop) { drops = append(drops, d) }})
			if tt.arm {
				g.Arm(t0)
			}
			ok, reason := g.Offer(tt.scan)
			if ok != tt.ok || reason != tt.reason {
				t.Fatalf("Offer = %v, %q; want %v, %q", ok, reason, tt.ok, tt.reason)
			}
			if tt.ok {
				if len(drops) != 0 {
					t.Fatalf("accepted scan reported as dropped: %+v", drops)
				}
				return
			}
			if len(drops) != 1 || drops[0].Reason != tt.reason || drops[0].Masked != tt.masked {
				t.Fatalf("drops = %+v, want one %q masked %q", drops, tt.reason, tt.masked)
			}
		})
	}
}

func TestGateOneCodePerWait(t *testing.T) {
	t0 := time.Now()
	g := NewGate(GateConfig{Now: func() time.Time { return t0 }})
	g.Arm(t0)
	code, ok, _ := g.Take(Scan{Code: "2860123456789012345\r", At: t0})
	if !ok || code != "2860123456789012345" {
		t.Fatalf("Take = %q, %v", code, ok)
	}
	if g.Armed() {
		t.Fatal("gate still armed after accepting a code")
	}
	if ok, reason := g.Offer(Scan{Code: code, At: t0}); ok || reason != DropNotWaiting {
		t.Fatalf("second scan: %v %q", ok, reason)
	}
	g.Arm(t0)
	g.Disarm()
	if ok, reason := g.Offer(Scan{Code: code, At: t0}); ok || reason != DropNotWaiting {
		t.Fatalf("after Disarm: %v %q", ok, reason)
	}
}

func TestGateMaxAgeConfigurable(t *testing.T) {
	t0 := time.Now()
	g := NewGate(GateConfig{MaxAge: 500 * time.Millisecond, Now: func() time.Time { return t0.Add(time.Second) }})
	g.Arm(t0)
	if ok, reason := g.Offer(Scan{Code: "2860123456789012345", At: t0}); ok || reason != DropStale {
		t.Fatalf("Offer = %v %q, want stale", ok, reason)
	}
}

func TestMaskNeverRevealsMoreThanFour(t *testing.T) {
	for _, s := range []string{"", "1", "1234", "12345", "286012345678901234"} {
		m := MaskCode(s)
		if len([]rune(m)) != len([]rune(s)) {
			t.Errorf("MaskCode(%q) = %q: length changed", s, m)
		}
		visible := 0
		for _, r := range m {
			if r != '*' {
				visible++
			}
		}
		if visible > 4 || (len(s) <= 4 && visible != 0) {
			t.Errorf("MaskCode(%q) = %q reveals %d characters", s, m, visible)
		}
	}
}
