package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// startDaemon runs `tillbridge run --sandbox` in-process on loopback ports
// with short timings and returns the ECR address.
func startDaemon(t *testing.T) string {
	t.Helper()
	out := &testenv.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, cmdIO{strings.NewReader(""), out, &testenv.Buffer{}}, []string{"run", "--sandbox",
			"--data", t.TempDir(), "--ecr-listen", "127.0.0.1:0", "--sandbox-listen", "127.0.0.1:0", "--lanes", "2",
			"--first-query", "50ms", "--query-interval", "50ms", "--pay-deadline", "1s", "--backoff-min", "50ms",
			"--backoff-max", "100ms", "--sandbox-confirm-delay", "200ms", "--log-level", "warn", "--console-listen", "off"})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("run exited %d", code)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not stop")
		}
	})
	var addr string
	testenv.WaitFor(t, testenv.Bound, func() bool {
		for _, line := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[0] == "ECR" && f[1] == "protocol:" {
				addr = f[3]
				return true
			}
		}
		return false
	}, "the start-up help's ECR address")
	if !strings.Contains(out.String(), "tillbridge ecr sale --addr "+addr) {
		t.Errorf("start-up help lacks the test sale command:\n%s", out)
	}
	return addr
}

func TestECRSaleAndExitCodes(t *testing.T) {
	addr := startDaemon(t)
	tests := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"approved", []string{"sale", "--addr", addr, "--lane", "1", "--ref", "C1", "--amount", "1250",
			"--currency", "HKD", "--barcode", "281234567890123400"}, exitOK,
			[]string{"SENT", "PRINTING", "APPROVED", "alipay_trans_id:", "TOTAL", "HKD 12.50", "[QR M: C1]"}},
		{"framed buyer confirms", []string{"sale", "--framed", "--addr", addr, "--lane", "2", "--ref", "C2",
			"--amount", "500", "--currency", "HKD", "--barcode", "281234567890123410"}, exitOK,
			[]string{"WAIT_BUYER_CONFIRM", "APPROVED"}},
		{"declined is a final answer", []string{"sale", "--addr", addr, "--lane", "1", "--ref", "C3", "--amount", "10",
			"--currency", "HKD", "--barcode", "281234567890123420"}, exitOK, []string{"DECLINED", "BUYER_BALANCE_NOT_ENOUGH"}},
		{"status json", []string{"status", "--json", "--addr", addr, "--lane", "1", "--ref", "C1"}, exitOK,
			[]string{`"status":"APPROVED"`, `"alipay_trans_id":"`}},
		{"error answer", []string{"sale", "--addr", addr, "--lane", "1", "--ref", "C1", "--amount", "999",
			"--currency", "HKD"}, exitFailure, []string{"E_REF_CONFLICT"}},
		{"unknown lane", []string{"status", "--addr", addr, "--lane", "9"}, exitFailure, []string{"E_NOT_FOUND"}},
		{"pending until timeout", []string{"sale", "--addr", addr, "--lane", "2", "--ref", "C4", "--amount", "10",
			"--currency", "HKD", "--timeout", "300ms"}, exitPending, []string{"WAIT_SCAN"}},
		{"ping", []string{"ping", "--addr", addr}, exitOK, []string{"OK"}},
		{"devices", []string{"devices", "--addr", addr}, exitOK, []string{"lane 1 printer lane-1"}},
		{"usage", []string{"sale", "--lane", "1"}, exitUsage, nil},
		{"no daemon", []string{"ping", "--addr", unusedAddr(t)}, exitNoDaemon, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"ecr"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	code, out, _ := run(t, "ecr", "abort", "--addr", addr, "--lane", "2", "--ref", "C4")
	if code != exitOK || !strings.Contains(out, "nothing was charged") {
		t.Fatalf("abort the pending sale: %d\n%s", code, out)
	}
}

// unusedAddr returns a loopback address nobody listens on.
func unusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRunUsage(t *testing.T) {
	code, _, errOut := run(t, "run", "--no-such-flag")
	if code != exitUsage || !strings.Contains(errOut, "tillbridge run --sandbox") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	code, _, _ = run(t, "run", "--config", "/nonexistent/tillbridge.toml")
	if code != exitFailure {
		t.Fatalf("missing config: code %d", code)
	}
	if _, err := daemon.DecodeConfig(daemon.SampleConfig(), ""); err != nil {
		t.Fatal(err)
	}
}
