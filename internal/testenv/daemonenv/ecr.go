package daemonenv

import (
	"context"
	"fmt"
	"sync"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/queue"
)

// Events gathers the EVENTs of one connection.
type Events struct {
	mu     sync.Mutex
	events []string
}

// Add records m's event; it is an ecrproto.ClientOptions.OnEvent.
func (c *Events) Add(m *ecrproto.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, m.Event)
}

// List returns the events so far, in order.
func (c *Events) List() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

// Dial connects an ECR client with opts (nil: JSON lines); its OnEvent
// is replaced by the returned collector.
func (e *Env) Dial(opts *ecrproto.ClientOptions) (*ecrproto.Client, *Events) {
	e.T.Helper()
	var o ecrproto.ClientOptions
	if opts != nil {
		o = *opts
	}
	col := &Events{}
	o.OnEvent = col.Add
	c, err := ecrproto.Dial(e.Ctx(), "tcp", e.ECR, &o)
	if err != nil {
		e.T.Fatal(err)
	}
	return c, col
}

// Do sends m on a fresh connection and returns the final answer and the
// events seen.
func (e *Env) Do(opts *ecrproto.ClientOptions, m *ecrproto.Message) (*ecrproto.Message, []string) {
	e.T.Helper()
	c, col := e.Dial(opts)
	defer c.Close()
	res, err := c.Do(e.Ctx(), m)
	if err != nil {
		e.T.Fatalf("%s %s: %v", m.Type, m.Ref, err)
	}
	return res, col.List()
}

// Sale runs one SALE of HKD 12.50 paid with code to its final answer.
func (e *Env) Sale(lane, ref, code string, opts *ecrproto.ClientOptions) *ecrproto.Message {
	e.T.Helper()
	res, _ := e.Do(opts, &ecrproto.Message{Type: ecrproto.TypeSale, Lane: lane, Ref: ref,
		Amount: ecrproto.Int(1250), Currency: "HKD", Barcode: code})
	return res
}

// StatusUntilFinal asks STATUS on one connection until the answer is
// not PENDING, and returns it.
func (e *Env) StatusUntilFinal(opts *ecrproto.ClientOptions, lane, ref string) *ecrproto.Message {
	e.T.Helper()
	c, _ := e.Dial(opts)
	defer c.Close()
	var res *ecrproto.Message
	testenv.WaitFor(e.T, Bound, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), Bound)
		defer cancel()
		var err error
		if res, err = c.Status(ctx, lane, ref); err != nil {
			e.T.Fatal(err)
		}
		return res.Status != ecrproto.StatusPending
	}, fmt.Sprintf("STATUS %s/%s other than PENDING", lane, ref))
	return res
}

// StatusUntil polls the control API's status until cond holds.
func (e *Env) StatusUntil(what string, cond func(control.StatusSnapshot) bool) control.StatusSnapshot {
	e.T.Helper()
	var s control.StatusSnapshot
	testenv.WaitFor(e.T, Bound, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), Bound)
		defer cancel()
		var err error
		if s, err = e.Control.Status(ctx); err != nil {
			e.T.Fatal(err)
		}
		return cond(s)
	}, "status showing "+what)
	return s
}

// Op reads the journal's operation of a sale (Daemon must be set).
func (e *Env) Op(lane, ref string) queue.Operation {
	e.T.Helper()
	op, err := e.Daemon.Engine().GetByRef(context.Background(), lane, queue.KindSale, ref)
	if err != nil {
		e.T.Fatal(err)
	}
	return op
}

// OpUntilFinal waits (up to Bound) for the journal to finish the sale of
// lane and ref: a cancel the daemon took on is then carried out, or the
// sale is MANUAL.
func (e *Env) OpUntilFinal(lane, ref string) queue.Operation {
	e.T.Helper()
	var op queue.Operation
	testenv.WaitFor(e.T, Bound, func() bool {
		op = e.Op(lane, ref)
		return op.Final() || op.State == queue.StateManual
	}, "sale "+lane+"/"+ref+" final in the journal")
	return op
}

// Code is an 18-digit sandbox buyer code ending in scenario sc, n
// making it unique.
func Code(sc, n int) string { return fmt.Sprintf("28%014d%02d", n, sc) }
