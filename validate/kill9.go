package validate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// kill9Deadline is the pay deadline of the crash case: long enough that
// the restarted daemon resolves the sales by query, not by cancel.
const kill9Deadline = 20 * time.Second

// kill9Confirm is the least time the simulated buyer of the crash case
// takes to enter the PIN, so that the sale is still waiting at the kill.
const kill9Confirm = 6 * time.Second

// child is a `tillbridge run --sandbox` subprocess.
type child struct {
	cmd     *exec.Cmd
	ecr     string
	sandbox string
	exited  chan error
	log     *os.File
}

// startChild starts the subprocess and reads its addresses from the
// start-up help it prints.
func startChild(ctx context.Context, exe, dataDir string, t Timings) (*child, error) {
	p := t.Payment
	args := []string{"run", "--sandbox", "--data", dataDir, "--ecr-listen", "127.0.0.1:0",
		"--sandbox-listen", "127.0.0.1:0", "--lanes", "2", "--log-level", "debug", "--console-listen", "off",
		"--first-query", p.FirstQuery.String(), "--query-interval", p.QueryInterval.String(),
		"--pay-deadline", p.PayDeadline.String(), "--backoff-min", p.BackoffMin.String(),
		"--backoff-max", p.BackoffMax.String(), "--cancel-wait", p.CancelWait.String(),
		"--gateway-timeout", "15s"}
	if d := t.Sandbox.ConfirmDelay; d > 0 {
		args = append(args, "--sandbox-confirm-delay", d.String())
	}
	// B's answer is held back long enough for the kill to land first, even
	// on a loaded machine
	args = append(args, "--sandbox-slow-pay", "8s")
	logf, err := os.Create(filepath.Join(dataDir, "child-stderr.log"))
	if err != nil {
		return nil, fmt.Errorf("child log: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("child stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	ch := &child{cmd: cmd, exited: make(chan error, 1), log: logf}
	addrs := make(chan [2]string, 1)
	go scanHelp(out, addrs)
	go func() { ch.exited <- cmd.Wait() }()
	select {
	case a := <-addrs:
		ch.ecr, ch.sandbox = a[0], a[1]
		return ch, nil
	case err := <-ch.exited:
		logf.Close()
		return nil, fmt.Errorf("the daemon exited during start-up: %v (see %s)", err, logf.Name())
	case <-time.After(time.Minute):
	case <-ctx.Done():
	}
	ch.kill()
	return nil, errors.New("the daemon subprocess was not ready within a minute")
}

// scanHelp reads "ECR protocol: tcp ADDR ..." and "Sandbox gateway:
// URL/gateway.do ..." from the start-up help, then drains the rest.
func scanHelp(out io.Reader, addrs chan<- [2]string) {
	var ecr, sb string
	sent := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 4 && f[0] == "ECR" && f[1] == "protocol:":
			ecr = f[3]
		case len(f) >= 3 && f[0] == "Sandbox" && f[1] == "gateway:":
			sb = strings.TrimSuffix(f[2], "/gateway.do")
		}
		if ecr != "" && sb != "" && !sent {
			addrs <- [2]string{ecr, sb}
			sent = true
		}
	}
}

// kill sends SIGKILL and waits for the process to end.
func (ch *child) kill() error {
	err := ch.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-ch.exited:
	case <-time.After(30 * time.Second):
		err = errors.Join(err, errors.New("the killed daemon did not exit"))
	}
	ch.log.Close()
	return err
}

// runKill9 starts the real binary, kills it with SIGKILL while one sale
// waits for the buyer's PIN and another's pay request is in flight,
// restarts the daemon on the same data directory (journal, sandbox state)
// and checks that STATUS resolves both sales to what the gateway did,
// with one trade and one pay call each.
func runKill9(ctx context.Context, o *Options, spec Case, dataDir, prefix string) CaseResult {
	res := CaseResult{ID: spec.ID, Title: spec.Title, Expect: spec.Expect, Started: time.Now()}
	t := o.Timings
	if t.Payment.PayDeadline < kill9Deadline {
		t.Payment.PayDeadline = kill9Deadline
	}
	if d := t.Sandbox.ConfirmDelay; d > 0 && d < kill9Confirm { // the PIN still pending at the kill
		t.Sandbox.ConfirmDelay = kill9Confirm
	}
	c := &caseRun{o: o, res: &res, lane: "1", prefix: prefix}
	err := kill9Steps(ctx, o, c, t, dataDir)
	if c.e == nil { // no restarted daemon to read the journal from
		res.Took = time.Since(res.Started)
		res.Timeline = c.ecr
		res.Verdict, res.Reason = Fail, fmt.Sprint(err)
		return res
	}
	defer c.e.close()
	c.finish(ctx, err)
	return res
}

func kill9Steps(ctx context.Context, o *Options, c *caseRun, t Timings, dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	ch, err := startChild(ctx, o.Executable, dataDir, t)
	if err != nil {
		return err
	}
	c.note(ActorDaemon, ActorDaemon, "daemon started (pid "+fmt.Sprint(ch.cmd.Process.Pid)+")", o.Executable)
	c.e = &env{ecrAddr: ch.ecr}
	refA, refB := c.ref(), c.ref()
	// A: the buyer confirms on the phone (PIN): killed while polling.
	if err := c.startUntil(ctx, sale("1", refA, 2100, "HKD", c.code(10)), ecrproto.EventWaitBuyerConfirm); err != nil {
		ch.kill()
		return err
	}
	// B: the pay answer is held back: killed with the request in flight.
	if err := c.startUntil(ctx, sale("2", refB, 2200, "HKD", c.code(35)), ecrproto.EventSent); err != nil {
		ch.kill()
		return err
	}
	// the gateway has created and paid B, its answer is held back: kill now
	if err := c.waitTrade(ctx, ch.sandbox, 2200); err != nil {
		ch.kill()
		return err
	}
	if err := ch.kill(); err != nil {
		return err
	}
	killedAt := time.Now()
	c.note(ActorDaemon, ActorDaemon, "kill -9", "SIGKILL with both sales in flight")
	c.e = nil
	ro := *o
	ro.Timings = t
	e, err := startEnv(ctx, &ro, dataDir)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	c.e = e
	c.note(ActorDaemon, ActorDaemon, "daemon restarted", "same data directory: journal and sandbox state")
	for _, s := range []laneRef{{"1", refA}, {"2", refB}} {
		c.lane = s.lane
		r, err := c.statusUntilFinal(ctx, s.ref, 2*time.Minute)
		if err != nil {
			return err
		}
		c.check("STATUS "+s.ref+" after restart", r.Status == ecrproto.StatusApproved && r.AlipayTransID != "",
			"want APPROVED with an Alipay id, got %s %s", answerLabel(r), r.AlipayTransID)
	}
	c.lane = "1"
	trades, _, err := e.ledger(ctx)
	if err != nil {
		return err
	}
	ops, raw := c.journalOps(ctx)
	for _, op := range raw {
		tr, ok := trades[op.PartnerTransID]
		c.check(op.Ref+": one trade, one pay", ok && tr.Calls.Pay == 1, "ledger %s, pay calls %d", tradeLine(tr, ok), tr.Calls.Pay)
	}
	for _, op := range ops {
		var paidAt time.Time
		for _, ev := range op.Events {
			if ev.To == "paid" && ev.From != "paid" {
				paidAt = ev.At
			}
		}
		c.check(op.Ref+": in flight at the kill", paidAt.After(killedAt.Truncate(time.Millisecond)),
			"killed at %s, journal paid at %s (by the restarted daemon)", killedAt.Format(time.RFC3339Nano), paidAt.Format(time.RFC3339Nano))
	}
	return nil
}

// startUntil sends a SALE on its own connection and returns once the
// event ev arrived; the connection stays open (it dies with the daemon).
func (c *caseRun) startUntil(ctx context.Context, m *ecrproto.Message, ev string) error {
	seen := make(chan struct{})
	cl, err := c.dial(ctx, func(x *ecrproto.Message) {
		if x.Event == ev {
			closeOnce(seen)
		}
	})
	if err != nil {
		return err
	}
	go func() { _, _ = c.send(ctx, cl, m) }()
	select {
	case <-seen:
		return nil
	case <-time.After(stepBound):
		return c.require("EVENT "+ev, false, "SALE %s: no %s event", m.Ref, ev)
	}
}

// waitTrade waits until the child's sandbox ledger holds a paid trade of
// amount (bounded; a missing trade fails the case).
func (c *caseRun) waitTrade(ctx context.Context, base string, amount int64) error {
	deadline := time.Now().Add(stepBound)
	for time.Now().Before(deadline) {
		trades, _, err := readLedger(ctx, base)
		if err != nil {
			return err
		}
		for _, t := range trades {
			if t.Amount == amount && t.Status == "TRADE_SUCCESS" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return c.require("trade at the gateway", false, "the sandbox never recorded the %d payment", amount)
}
