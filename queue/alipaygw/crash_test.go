//go:build unix

package alipaygw_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/queue/alipaygw"
)

// Environment of the crash-test child: the test binary re-executed in the
// "engine" role.
const (
	envFailpoint = "TILLBRIDGE_FAILPOINT"  // where the child kills itself (first run only)
	envJournal   = "TILLBRIDGE_JOURNAL"    // the journal file
	envGateway   = "TILLBRIDGE_GATEWAY"    // the sandbox base URL
	envCode      = "TILLBRIDGE_BUYER_CODE" // the scenario code of the sale
	envTerminal  = "TILLBRIDGE_TERMINAL"   // the terminal (tags the case's trades)
	envFlow      = "TILLBRIDGE_FLOW"       // "sale": code in the SALE; "scan": SALE, then the code
)

// Child exit codes.
const (
	childDone    = 0 // every operation final
	childFailed  = 2 // the engine failed
	childTimeout = 3 // operations still open at the time limit
)

func TestMain(m *testing.M) {
	testenv.Main(m, map[string]func() int{"engine": runChild})
}

// failpoint maps a TILLBRIDGE_FAILPOINT name to the engine hook point and
// the gateway call it applies to.
func failpoint(name string) (queue.Failpoint, queue.Call, bool) {
	switch name {
	case "before-commit":
		return queue.FailBeforeCommit, queue.CallPay, true
	case "after-commit-before-call":
		return queue.FailAfterCommitBeforeCall, queue.CallPay, true
	case "after-call-before-record":
		return queue.FailAfterCallBeforeRecord, queue.CallPay, true
	case "mid-cancel": // the gateway cancelled; the journal does not know yet
		return queue.FailAfterCallBeforeRecord, queue.CallCancel, true
	}
	return "", "", false
}

// runChild is the engine process: it (re)submits the sale with its code, as
// an ECR that resends after a lost connection would, and runs until
// everything is final. At the failpoint it SIGKILLs itself. (Killed before
// the commit of a sale sent with its code, nothing was recorded or sent, so
// the resubmit creates and pays it; killed after, the resubmit finds it and
// never pays again.)
func runChild() int {
	cfg := fastEngine()
	if point, call, ok := failpoint(os.Getenv(envFailpoint)); ok {
		cfg.Hook = func(p queue.Failpoint, c queue.Call, _ queue.Operation) {
			if p == point && c == call {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
	}
	e, err := childEngine(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return childFailed
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.Run(ctx) }()
	if err := submit(ctx, e, os.Getenv(envFlow), os.Getenv(envCode)); err != nil {
		fmt.Fprintln(os.Stderr, "submit:", err)
		return childFailed
	}
	code := childTimeout
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if open, err := openCount(e); err != nil || open == 0 {
			code = map[bool]int{true: childFailed, false: childDone}[err != nil]
			break
		}
	}
	cancel()
	if err := e.Close(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		return childFailed
	}
	return code
}

// submit sends the case's sale the way its flow says; a voided sale
// refusing its code is expected after a restart.
func submit(ctx context.Context, e *queue.Engine, flow, code string) error {
	s := queue.Sale{Lane: "1", Ref: "r", Amount: 1250, Currency: "HKD", Subject: "Adult ticket",
		Terminal: os.Getenv(envTerminal)}
	if flow == "sale" {
		s.BuyerCode = code
	}
	submitted, err := e.SubmitSale(ctx, s)
	op := submitted.Op
	if err == nil && flow == "scan" && op.State == queue.StateWaitingScan {
		_, err = e.StartPay(ctx, op.ID, code)
	}
	if errors.As(err, new(*queue.StateError)) {
		return nil
	}
	return err
}

// childEngine opens the child's journal against the sandbox.
func childEngine(cfg queue.Config) (*queue.Engine, error) {
	c, err := alipay.NewClient(clientConfig(os.Getenv(envGateway)))
	if err != nil {
		return nil, err
	}
	return queue.Open(context.Background(), os.Getenv(envJournal), alipaygw.New(c), cfg)
}

func openCount(e *queue.Engine) (int, error) {
	counts, err := e.Counts(context.Background())
	n := 0
	for s, c := range counts {
		if !s.Final() {
			n += c
		}
	}
	return n, err
}

// runCase runs the child on one journal until it finishes, the first run
// with the failpoint armed; it returns whether the failpoint killed it.
func runCase(t *testing.T, journal, base, point, code, terminal, flow string) bool {
	t.Helper()
	killed := false
	for run := 0; run < 6; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		env := []string{envJournal + "=" + journal, envGateway + "=" + base, envCode + "=" + code,
			envTerminal + "=" + terminal, envFlow + "=" + flow}
		if run == 0 {
			env = append(env, envFailpoint+"="+point)
		}
		out, err := testenv.Child(ctx, "engine", env...).CombinedOutput()
		cancel()
		switch {
		case err == nil:
			return killed
		case testenv.Killed(err) && run == 0:
			killed = true
		default:
			t.Fatalf("run %d: %v\n%s", run, err, out)
		}
	}
	t.Fatal("the child never finished")
	return killed
}

// For each failpoint and each sandbox scenario, the engine is killed there
// and restarted on the same journal until done; the journal must then agree
// with the gateway's ledger.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	_, base := startSandbox(t, filepath.Join(t.TempDir(), "sandbox-state.json"))
	slots := make(chan struct{}, 8) // children mostly wait on timers
	for pi, point := range []string{"before-commit", "after-commit-before-call",
		"after-call-before-record", "mid-cancel"} {
		for _, code := range scenarioCodes() {
			scenario := code[16:]
			t.Run(point+"/"+scenario, func(t *testing.T) {
				t.Parallel()
				slots <- struct{}{}
				defer func() { <-slots }()
				terminal := fmt.Sprintf("K%ds%s", pi, scenario)
				journal := filepath.Join(t.TempDir(), "journal.db")
				flow := []string{"sale", "scan"}[(pi+int(code[17]))%2] // both flows at every point
				killed := runCase(t, journal, base, point, code, terminal, flow)
				mustFire := point != "mid-cancel" || strings.Contains(" 11 30 34 ", " "+scenario+" ")
				if mustFire && !killed {
					t.Fatalf("failpoint %s never fired", point)
				}
				checkCase(t, journal, base, terminal, point, flow)
			})
		}
	}
}

// checkCase compares the case's journal with its trades in the ledger.
func checkCase(t *testing.T, journal, base, terminal, point, flow string) {
	t.Helper()
	ops := readJournal(t, journal)
	trades := map[string]sandbox.Trade{}
	for id, tr := range ledger(t, base) {
		if tr.Merchant.TerminalID == terminal {
			trades[id] = tr
		}
	}
	for _, p := range checkAgainstLedger(ops, trades) {
		t.Error(p)
	}
	if len(ops) != 1 {
		t.Fatalf("%d operations, want the one sale", len(ops))
	}
	voided := point == "before-commit" && flow == "scan" // recorded, never sent
	if voided && (ops[0].State != queue.StateVoided || len(trades) != 0) {
		t.Errorf("killed before the pay commit: %s with %d trades, want voided and none",
			ops[0].State, len(trades))
	}
	if n, want := sentEvents(t, journal, ops[0].ID), map[bool]int{true: 0, false: 1}[voided]; n != want {
		t.Errorf("the sale's pay was sent %d times, want %d", n, want)
	}
}

// sentEvents counts the pay attempts (SENT events) of a sale.
func sentEvents(t *testing.T, journal, id string) int {
	t.Helper()
	e, err := queue.Open(context.Background(), journal, deadGateway{}, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	evs, err := e.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Name == queue.EventSent {
			n++
		}
	}
	return n
}
