package daemon_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// scenarioCase is what the ECR must hear for a sandbox scenario code.
type scenarioCase struct {
	sc     int
	status string
	reason string   // expected RESULT reason ("" = not checked)
	events []string // EVENTs that must have been sent
}

func scenarioCases() []scenarioCase {
	var cs []scenarioCase
	for sc := 0; sc <= 9; sc++ {
		cs = append(cs, scenarioCase{sc: sc, status: ecrproto.StatusApproved,
			events: []string{ecrproto.EventSent, ecrproto.EventPrinting}})
	}
	return append(cs,
		scenarioCase{10, ecrproto.StatusApproved, "", []string{ecrproto.EventSent, ecrproto.EventWaitBuyerConfirm}},
		scenarioCase{11, ecrproto.StatusCancelled, "PAY_DEADLINE", []string{ecrproto.EventWaitBuyerConfirm, ecrproto.EventCancelling}},
		scenarioCase{12, ecrproto.StatusDeclined, "TRADE_CLOSED", []string{ecrproto.EventWaitBuyerConfirm}},
		scenarioCase{20, ecrproto.StatusDeclined, "BUYER_BALANCE_NOT_ENOUGH", []string{ecrproto.EventSent}},
		scenarioCase{21, ecrproto.StatusDeclined, "BUYER_NOT_EXIST", []string{ecrproto.EventSent}},
		scenarioCase{30, ecrproto.StatusCancelled, "PAY_DEADLINE", []string{ecrproto.EventSent, ecrproto.EventCancelling}},
		scenarioCase{31, ecrproto.StatusApproved, "", []string{ecrproto.EventSent}},
		scenarioCase{32, ecrproto.StatusApproved, "", []string{ecrproto.EventSent}},
		scenarioCase{33, ecrproto.StatusApproved, "", []string{ecrproto.EventSent, ecrproto.EventWaitBuyerConfirm}},
		scenarioCase{34, ecrproto.StatusCancelled, "PAY_DEADLINE", []string{ecrproto.EventCancelling}},
		scenarioCase{35, ecrproto.StatusApproved, "", []string{ecrproto.EventSent}},
	)
}

// TestScenarios runs a SALE for every sandbox scenario code in both
// encodings, each on its own lane, all at once, and checks the RESULT, its
// EVENTs, the STATUS answer afterwards and the gateway's ledger.
func TestScenarios(t *testing.T) {
	cases := scenarioCases()
	e := startEnv(t, daemonenv.Lanes(2*len(cases)))
	lane := 0
	for _, framed := range []bool{false, true} {
		for _, c := range cases {
			lane++
			ln := itoa(lane)
			t.Run(fmt.Sprintf("%s/%02d", encName(framed), c.sc), func(t *testing.T) {
				t.Parallel()
				runScenario(t, e, framed, ln, c)
			})
		}
	}
}

func encName(framed bool) string {
	if framed {
		return "framed"
	}
	return "json"
}

func runScenario(t *testing.T, e *env, framed bool, lane string, c scenarioCase) {
	ref := "S" + lane
	res, events := e.Do(enc(framed), saleMsg(lane, ref, 1250, code(c.sc, 1000+c.sc)))
	if res.Type != ecrproto.TypeResult || res.Status != c.status {
		t.Fatalf("RESULT %s %s (%s: %s), want %s; events %v", res.Type, res.Status, res.Reason, res.Message, c.status, events)
	}
	if c.reason != "" && res.Reason != c.reason {
		t.Errorf("reason %q, want %q", res.Reason, c.reason)
	}
	for _, ev := range c.events {
		if !contains(events, ev) {
			t.Errorf("events %v lack %s", events, ev)
		}
	}
	if res.Status == ecrproto.StatusApproved && (res.AlipayTransID == "" || res.AmountCNY == nil || res.Receipt == "") {
		t.Errorf("APPROVED without alipay_trans_id, amount_cny or receipt: %+v", res)
	}
	st := e.StatusUntilFinal(enc(!framed), lane, ref)
	if st.Status != res.Status || st.AlipayTransID != res.AlipayTransID {
		t.Errorf("STATUS %s %q, SALE said %s %q", st.Status, st.AlipayTransID, res.Status, res.AlipayTransID)
	}
	checkLedgerAgrees(t, ledger(t, e.Sandbox.URL), e.Op(lane, ref).PartnerTransID, res)
}

// TestTwentyLanesAtOnce sells on 20 lanes concurrently, half of them
// waiting for a SCAN from a second client.
func TestTwentyLanesAtOnce(t *testing.T) {
	e := startEnv(t, daemonenv.Lanes(20))
	var wg sync.WaitGroup
	results := make([]*ecrproto.Message, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lane := itoa(i + 1)
			if i%2 == 0 {
				results[i], _ = e.Do(enc(i%4 == 0), saleMsg(lane, "L"+lane, int64(100+i), code(0, i)))
				return
			}
			results[i] = e.saleWithScan(i%4 == 1, lane, "L"+lane, int64(100+i), code(0, i))
		}()
	}
	wg.Wait()
	trades := ledger(t, e.Sandbox.URL)
	seen := map[string]bool{}
	for i, res := range results {
		lane := itoa(i + 1)
		if res == nil || res.Status != ecrproto.StatusApproved {
			t.Fatalf("lane %s: %+v", lane, res)
		}
		if seen[res.AlipayTransID] {
			t.Fatalf("lane %s: alipay_trans_id %s seen twice", lane, res.AlipayTransID)
		}
		seen[res.AlipayTransID] = true
		checkLedgerAgrees(t, trades, e.Op(lane, "L"+lane).PartnerTransID, res)
	}
	if len(trades) != 20 {
		t.Fatalf("ledger holds %d trades, want 20", len(trades))
	}
}

// saleWithScan starts a SALE without a code and delivers it with SCAN from
// another connection once the lane waits for it.
func (e *env) saleWithScan(framed bool, lane, ref string, amount int64, barcode string) *ecrproto.Message {
	c, _ := e.Dial(enc(framed))
	defer c.Close()
	waiting := make(chan struct{})
	var once sync.Once
	c2, err := dialWithEvents(e, framed, func(m *ecrproto.Message) {
		if m.Event == ecrproto.EventWaitScan {
			once.Do(func() { close(waiting) })
		}
	})
	if err != nil {
		e.T.Error(err)
		return nil
	}
	defer c2.Close()
	out := make(chan *ecrproto.Message, 1)
	go func() { out <- doBounded(c2, saleMsg(lane, ref, amount, "")) }()
	select {
	case <-waiting:
	case <-time.After(testBound):
		e.T.Errorf("lane %s never waited for a scan", lane)
		return nil
	}
	scan := doBounded(c, &ecrproto.Message{Type: ecrproto.TypeScan, Lane: lane, Barcode: barcode})
	if scan == nil || scan.Status != ecrproto.StatusOK {
		e.T.Errorf("SCAN on lane %s: %+v", lane, scan)
	}
	return <-out
}
