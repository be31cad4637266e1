package validate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// StepTimeoutError is a step a person did not complete in time.
type StepTimeoutError struct {
	Step  string
	After time.Duration
}

// Error says which step timed out.
func (e *StepTimeoutError) Error() string {
	return fmt.Sprintf("no answer within %s to: %s", e.After, e.Step)
}

// prompter asks a person to act: it prints a step and waits, at most the
// step timeout, for a line on its input (or for the step to complete by
// itself, e.g. a scan on the lane's scanner).
type prompter struct {
	out     io.Writer
	timeout time.Duration
	lines   chan string
	eof     chan struct{}
	quit    chan struct{}
}

func newPrompter(in io.Reader, out io.Writer, timeout time.Duration) *prompter {
	p := &prompter{out: out, timeout: timeout, lines: make(chan string), eof: make(chan struct{}), quit: make(chan struct{})}
	go func() {
		defer close(p.eof)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case p.lines <- strings.TrimSpace(sc.Text()):
			case <-p.quit:
				return
			}
		}
	}()
	return p
}

// close releases the reader goroutine once it has a line to hand over (a
// reader blocked on a terminal cannot be interrupted; it ends with the
// process).
func (p *prompter) close() { close(p.quit) }

// ask prints the step and returns the line typed, "" when done fired
// first, or a *StepTimeoutError.
func (p *prompter) ask(ctx context.Context, step, how string, done <-chan struct{}) (string, error) {
	fmt.Fprintf(p.out, "\n>>> %s\n    %s (timeout %s)\n> ", step, how, p.timeout)
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case l := <-p.lines:
		return l, nil
	case <-done:
		fmt.Fprintln(p.out, "(done)")
		return "", nil
	case <-p.eof:
		select {
		case <-done:
			return "", nil
		case <-t.C:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	case <-t.C:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	fmt.Fprintln(p.out, "(timed out)")
	return "", &StepTimeoutError{Step: step, After: p.timeout}
}

// tell prints an instruction that needs no answer.
func (p *prompter) tell(format string, args ...any) {
	fmt.Fprintf(p.out, "    "+format+"\n", args...)
}

// manualSale sends a SALE without a code and asks the person for one: it
// is scanned on the lane's scanner or typed at the prompt (then sent as a
// SCAN). It returns the sale's ref, its RESULT and the events seen.
func (c *caseRun) manualSale(ctx context.Context, step string) (string, *ecrproto.Message, []string, error) {
	ref := c.ref()
	var evs []string
	scanned := make(chan struct{})
	waiting := make(chan struct{})
	type answer struct {
		res *ecrproto.Message
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := c.doWith(ctx, sale(c.lane, ref, c.o.Amount, c.o.Currency, ""), func(m *ecrproto.Message) {
			c.mu.Lock()
			evs = append(evs, m.Event)
			c.mu.Unlock()
			switch m.Event {
			case ecrproto.EventWaitScan:
				closeOnce(waiting)
			case ecrproto.EventScanned:
				closeOnce(scanned)
			}
		})
		done <- answer{res, err}
	}()
	select {
	case <-waiting:
	case a := <-done:
		return ref, a.res, nil, fmt.Errorf("the lane did not wait for a code: %v %v", a.res, a.err)
	}
	if err := c.deliverCode(ctx, fmt.Sprintf("%s — %s: %d minor units of %s on lane %s", c.res.ID, step, c.o.Amount, c.o.Currency, c.lane), scanned); err != nil {
		_, _ = c.do(ctx, &ecrproto.Message{Type: ecrproto.TypeAbort, Lane: c.lane, Ref: ref})
		<-done
		return ref, nil, nil, err
	}
	c.p.tell("sale %s sent; waiting for its result (up to the pay deadline, %s)…", ref, c.o.Timings.Payment.PayDeadline)
	a := <-done
	c.mu.Lock()
	defer c.mu.Unlock()
	return ref, a.res, append([]string(nil), evs...), a.err
}

// deliverCode asks for the customer's code and sends it as a SCAN, unless
// the lane's scanner read it first (scanned closes).
func (c *caseRun) deliverCode(ctx context.Context, step string, scanned <-chan struct{}) error {
	code, err := c.p.ask(ctx, step, "scan the customer's code on the lane's scanner, or type it and press Enter", scanned)
	if err != nil {
		return err
	}
	if code == "" {
		return nil
	}
	res, err := c.do(ctx, &ecrproto.Message{Type: ecrproto.TypeScan, Lane: c.lane, Barcode: code})
	if err != nil {
		return err
	}
	if res.Type == ecrproto.TypeError {
		return fmt.Errorf("the code was refused: %s %s", answerLabel(res), res.Message)
	}
	return nil
}

func manualApproved(step string) func(context.Context, *caseRun) error {
	return func(ctx context.Context, c *caseRun) error {
		ref, res, evs, err := c.manualSale(ctx, step)
		if err != nil {
			return err
		}
		if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
			return err
		}
		pays := c.calls(c.ptid(ctx, ref), "spot.pay")
		if len(pays) > 0 {
			c.checkExtendInfo(pays[0])
		}
		c.checkPrinted(evs)
		return nil
	}
}

func manualPIN(ctx context.Context, c *caseRun) error {
	ref, res, evs, err := c.manualSale(ctx, "show a payment code of a wallet that asks for the payment PIN; "+
		"enter the PIN on the phone when it asks")
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
		return err
	}
	return c.checkPINFlow(ctx, ref, evs)
}

func manualExpire(ctx context.Context, c *caseRun) error {
	ref, res, evs, err := c.manualSale(ctx, "show a payment code of a wallet that asks for the PIN, and do NOT enter it: "+
		"let the payment expire")
	if err != nil {
		return err
	}
	if err := c.expectResult(res, ecrproto.StatusCancelled, "PAY_DEADLINE"); err != nil {
		return err
	}
	return c.checkExpired(ctx, ref, evs)
}

func invalidCodeConfigured(ctx context.Context, c *caseRun) error {
	before := len(c.e.rec.All())
	res, err := c.do(ctx, sale(c.lane, c.ref(), c.o.Amount, c.o.Currency, "1234567890"))
	if err != nil {
		return err
	}
	c.check("refused as E_FIELD barcode", res.Type == ecrproto.TypeError && res.Code == ecrproto.CodeField && res.Field == "barcode",
		"got %s %s", answerLabel(res), res.Message)
	c.check("nothing sent to the gateway", len(c.e.rec.All()) == before, "%d calls", len(c.e.rec.All())-before)
	return nil
}

func withManualSale(fn paidCase) func(context.Context, *caseRun) error {
	return func(ctx context.Context, c *caseRun) error {
		ref, res, _, err := c.manualSale(ctx, "show a payment code (a small payment, refunded by this case)")
		if err != nil {
			return err
		}
		if err := c.expectResult(res, ecrproto.StatusApproved, ""); err != nil {
			return err
		}
		return fn(ctx, c, ref, c.o.Amount, c.o.Currency)
	}
}

func manualLostResult(ctx context.Context, c *caseRun) error {
	return lostResultWith(ctx, c, "")
}

// closeOnce closes ch unless it is closed already (one goroutine only).
func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}
