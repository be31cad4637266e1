package alipaygw_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/queue"
)

// setFault switches a sandbox fault on through its HTTP API.
func setFault(t *testing.T, base, body string) {
	t.Helper()
	resp, err := http.Post(base+"/sandbox/faults", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST /sandbox/faults %s: %s", body, resp.Status)
	}
}

// The gateway goes down for longer than the pay deadline: unknown sales
// reach their deadline and queue their cancels, an ECR cancel and a refund
// queue too; nothing is given up, and everything is delivered once the
// gateway is back.
func TestOfflineCancelsQueueAndDeliver(t *testing.T) {
	_, base := startSandbox(t, "")
	path := filepath.Join(t.TempDir(), "journal.db")
	e := openEngine(t, path, base, fastEngine()) // pay deadline 2 s
	ctx, halt := runScheduler(e)
	sale := func(ref, code string) queue.Operation {
		t.Helper()
		submitted, err := e.SubmitSale(ctx, queue.Sale{Lane: "1", Ref: ref, Amount: 800, Currency: "HKD",
			BuyerCode: code})
		op := submitted.Op
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	paidA, paidD := sale("A", "281234567890123400"), sale("D", "281234567890123401")
	waitFinal(t, e, 10*time.Second)
	waiting := sale("B", "281234567890123411") // the buyer never confirms
	waitState(t, e, waiting.ID, queue.StateQuerying)

	setFault(t, base, `{"kind":"down"}`)    // until cleared
	lost := sale("C", "281234567890123402") // sent into the outage
	if _, err := e.Cancel(ctx, paidA.ID); err != nil {
		t.Fatal(err)
	}
	refund, err := e.SubmitRefund(ctx, queue.Refund{Lane: "1", RefundRef: "RD", SaleID: paidD.ID,
		Amount: 800, Currency: "HKD"})
	if err != nil {
		t.Fatal(err)
	}
	// Offline past every pay deadline: each duty is queued and retried.
	for id, s := range map[string]queue.State{paidA.ID: queue.StateCancelling,
		waiting.ID: queue.StateCancelling, lost.ID: queue.StateCancelling, refund.ID: queue.StateRefunding} {
		waitRetrying(t, e, id, s)
	}
	clearFaults(t, base)

	waitFinal(t, e, 20*time.Second)
	_ = halt()
	_ = e.Close(context.Background())
	ops, trades := journalAgrees(t, path, base)
	got := map[string]string{}
	for _, op := range ops {
		got[op.Ref] = fmt.Sprintf("%s/%s", op.State, trades[op.PartnerTransID].ClosedBy)
	}
	want := map[string]string{"A": "cancelled/cancel", "B": "cancelled/cancel", "D": "paid/refund",
		"RD": "refunded/refund"}
	for ref, w := range want {
		if got[ref] != w {
			t.Errorf("%s: %s, want %s", ref, got[ref], w)
		}
	}
	if !strings.HasPrefix(got["C"], "cancelled/") {
		t.Errorf("C: %s, want cancelled", got["C"])
	}
}

// waitRetrying waits until operation id is in state s with at least three
// attempts made in it.
func waitRetrying(t *testing.T, e *queue.Engine, id string, s queue.State) {
	t.Helper()
	testenv.WaitFor(t, 20*time.Second, func() bool {
		op, err := e.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if op.Final() {
			t.Fatalf("%s ended %s during the outage (%s)", op.Ref, op.State, op.Reason)
		}
		return op.State == s && op.StateAttempts >= 3
	}, fmt.Sprintf("%s retrying in %s (3 attempts)", id, s))
}

func clearFaults(t *testing.T, base string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+"/sandbox/faults", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// waitState waits until operation id reaches state s.
func waitState(t *testing.T, e *queue.Engine, id string, s queue.State) {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, func() bool {
		op, err := e.Get(context.Background(), id)
		return err == nil && op.State == s
	}, fmt.Sprintf("%s in state %s", id, s))
}
