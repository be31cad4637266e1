package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/control"
)

func TestDevicesCommand(t *testing.T) {
	tl := startTill(t)
	code, out, _ := tl.cli("devices")
	if code != exitOK || !strings.Contains(out, "lane-1") || !strings.Contains(out, "simulated") ||
		!strings.Contains(out, "USB devices:") || strings.Contains(out, "not running") {
		t.Fatalf("devices: exit %d\n%s", code, out)
	}
	code, out, _ = tl.cli("devices", "--json")
	var rep control.DevicesReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || !rep.FromDaemon || len(rep.Lanes) != 2 ||
		len(rep.Lanes[0].States) != 2 {
		t.Fatalf("devices --json: exit %d, %v\n%s", code, err, out)
	}
	tl.Stop()
	code, out, _ = tl.cli("devices")
	if code != exitOK || !strings.Contains(out, "the daemon is not running") || !strings.Contains(out, "serial ports:") {
		t.Fatalf("devices without the daemon: exit %d\n%s", code, out)
	}
}
