package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

// proc is a `tillbridge run --sandbox` subprocess.
type proc struct {
	*testenv.Proc
	t       *testing.T
	ecr     string // ECR address
	sandbox string // sandbox base URL
}

// buildBinary builds cmd/tillbridge into a temp dir (no race detector: the
// subprocess is the system under test, this binary the test harness).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tillbridge")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tillbridge/tillbridge/cmd/tillbridge")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tillbridge: %v\n%s", err, out)
	}
	return bin
}

// crashArgs run the sandbox daemon with short test timings; the pay answer
// of code 35 is held back (1 s) within the gateway timeout (5 s), so a
// kill can land while that pay is in flight.
func crashArgs(data string) []string {
	return []string{"run", "--sandbox", "--data", data, "--ecr-listen", "127.0.0.1:0",
		"--sandbox-listen", "127.0.0.1:0", "--lanes", "4", "--log-level", "debug", "--console-listen", "off",
		"--first-query", "100ms", "--query-interval", "100ms", "--pay-deadline", "2s",
		"--backoff-min", "50ms", "--backoff-max", "200ms", "--cancel-wait", "10s",
		"--gateway-timeout", "5s", "--sandbox-confirm-delay", "1500ms", "--sandbox-slow-pay", "1s"}
}

// startProc starts the daemon and reads its addresses from the start-up
// help it prints: "ECR protocol: tcp ADDR ..." and "Sandbox gateway:
// URL/gateway.do ...".
func startProc(t *testing.T, bin string, args []string, logName string) *proc {
	t.Helper()
	p := &proc{Proc: testenv.Start(t, exec.Command(bin, args...), logName), t: t}
	p.WaitLine(testBound, "the ECR and sandbox addresses", func(line string) bool {
		f := strings.Fields(line)
		switch {
		case len(f) >= 4 && f[0] == "ECR" && f[1] == "protocol:":
			p.ecr = f[3]
		case len(f) >= 3 && f[0] == "Sandbox" && f[1] == "gateway:":
			p.sandbox = strings.TrimSuffix(f[2], "/gateway.do")
		}
		return p.ecr != "" && p.sandbox != ""
	})
	return p
}

// stop SIGTERMs the daemon and checks that it exits cleanly.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	if err := p.Wait(testBound); err != nil {
		p.t.Errorf("SIGTERM: exit %v", err)
	}
}

// client connects to the subprocess's ECR port.
func (p *proc) client(framed bool, on func(*ecrproto.Message)) *ecrproto.Client {
	ctx, cancel := context.WithTimeout(context.Background(), testBound)
	defer cancel()
	c, err := ecrproto.Dial(ctx, "tcp", p.ecr, &ecrproto.ClientOptions{Framed: framed, OnEvent: on})
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// startSaleUntil sends a SALE and returns once EVENT ev arrived; the
// connection is left open (it dies with the process).
func (p *proc) startSaleUntil(framed bool, m *ecrproto.Message, ev string) {
	seen := make(chan struct{})
	var closed bool
	c := p.client(framed, func(x *ecrproto.Message) {
		if x.Event == ev && !closed {
			closed = true
			close(seen)
		}
	})
	go doBounded(c, m)
	select {
	case <-seen:
	case <-time.After(testBound):
		p.t.Fatalf("SALE %s: no %s event", m.Ref, ev)
	}
}

// waitTrade waits until the sandbox's ledger holds a trade whose buyer
// code ends in last4.
func (p *proc) waitTrade(last4 string) {
	p.t.Helper()
	testenv.WaitFor(p.t, testBound, func() bool {
		for _, tr := range ledger(p.t, p.sandbox) {
			if strings.HasSuffix(tr.BuyerCode, last4) {
				return true
			}
		}
		return false
	}, "a trade for code ..."+last4)
}

// statusUntilFinal asks STATUS until the answer is final.
func (p *proc) statusUntilFinal(lane, ref string) *ecrproto.Message {
	p.t.Helper()
	c := p.client(false, nil)
	defer c.Close()
	var res *ecrproto.Message
	testenv.WaitFor(p.t, testBound, func() bool {
		if res = doBounded(c, &ecrproto.Message{Type: ecrproto.TypeStatus, Lane: lane, Ref: ref}); res == nil {
			p.t.Fatal("STATUS: connection failed")
		}
		// CANCELLED CANCEL_QUEUED is an honest answer while the cancel
		// is still being sent; wait for its confirmation.
		return res.Status != ecrproto.StatusPending && res.Reason != daemon.ReasonCancelQueued
	}, fmt.Sprintf("a final STATUS of %s/%s (not PENDING, cancel not queued)", lane, ref))
	return res
}

// TestKillDashNine SIGKILLs the daemon with sales in four stages (buyer
// confirming, buyer never confirming, waiting for the scan, pay request in
// flight), restarts it on the same data, and checks that STATUS gives the
// true outcome of each and that the sandbox's ledger agrees.
func TestKillDashNine(t *testing.T) {
	t.Parallel() // own data dir and loopback ports; waits on timers, not the CPU
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	p1 := startProc(t, bin, crashArgs(data), "first.log")
	p1.startSaleUntil(false, saleMsg("1", "K1", 1000, code(10, 1)), ecrproto.EventWaitBuyerConfirm)
	p1.startSaleUntil(true, saleMsg("2", "K2", 2000, code(11, 2)), ecrproto.EventWaitBuyerConfirm)
	p1.startSaleUntil(false, saleMsg("3", "K3", 3000, ""), ecrproto.EventWaitScan)
	p1.startSaleUntil(true, saleMsg("4", "K4", 4000, code(35, 4)), ecrproto.EventSent)
	p1.waitTrade("0435") // the pay reached the gateway; its answer is held back
	_ = p1.Kill()

	p2 := startProc(t, bin, crashArgs(data), "second.log")
	want := map[string]struct{ status, reason, last4 string }{
		"1": {ecrproto.StatusApproved, "", "0110"},
		"2": {ecrproto.StatusCancelled, "PAY_DEADLINE", "0211"},
		"3": {ecrproto.StatusDeclined, "VOIDED", ""},
		"4": {ecrproto.StatusApproved, "", "0435"},
	}
	results := map[string]*ecrproto.Message{}
	for lane, w := range want {
		res := p2.statusUntilFinal(lane, "K"+lane)
		if res.Status != w.status || (w.reason != "" && res.Reason != w.reason) {
			t.Errorf("lane %s after restart: %s %s (%s), want %s %s", lane, res.Status, res.Reason, res.Message, w.status, w.reason)
		}
		if res.Status == ecrproto.StatusApproved && res.AlipayTransID == "" {
			t.Errorf("lane %s: APPROVED without alipay_trans_id", lane)
		}
		results[lane] = res
	}
	trades := ledger(t, p2.sandbox)
	for lane, w := range want {
		checkByCode(t, trades, lane, w.last4, results[lane])
	}
	if len(trades) != 3 {
		t.Errorf("ledger holds %d trades, want 3 (the voided sale never reached it)", len(trades))
	}
	p2.stop()
}

// checkByCode finds the ledger trade of a sale by its buyer code's last
// four digits (unique per lane here) and checks it against the ECR's
// answer; there must be at most one.
func checkByCode(t *testing.T, trades map[string]sandbox.Trade, lane, last4 string, res *ecrproto.Message) {
	t.Helper()
	var found []sandbox.Trade
	for _, tr := range trades {
		if last4 != "" && strings.HasSuffix(tr.BuyerCode, last4) {
			found = append(found, tr)
		}
	}
	if len(found) > 1 {
		t.Errorf("lane %s: %d trades for one sale", lane, len(found))
		return
	}
	ptid := ""
	if len(found) == 1 {
		ptid = found[0].PartnerTransID
	}
	if err := agree(trades, ptid, res); err != nil {
		t.Errorf("lane %s: %v", lane, err)
	}
}

// agree checks that the gateway's ledger matches what the ECR heard for
// the sale: APPROVED is a paid trade with the same Alipay id;
// DECLINED/CANCELLED is no trade, or a closed one.
func agree(trades map[string]sandbox.Trade, ptid string, res *ecrproto.Message) error {
	tr, found := trades[ptid]
	switch res.Status {
	case ecrproto.StatusApproved:
		if !found || tr.Status != "TRADE_SUCCESS" || tr.AlipayTransID != res.AlipayTransID {
			return fmt.Errorf("ECR heard APPROVED %s; ledger has %+v", res.AlipayTransID, tr)
		}
	case ecrproto.StatusDeclined, ecrproto.StatusCancelled:
		if found && tr.Status != "TRADE_CLOSED" {
			return fmt.Errorf("ECR heard %s; ledger trade is %s", res.Status, tr.Status)
		}
	default:
		return errors.New("not a final answer: " + res.Status)
	}
	return nil
}
