package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// client is one ECR's link to the daemon: it reconnects with backoff when
// the daemon is down, picks its encoding per connection, and can drop a
// connection under a request (chaos).
type client struct {
	addr   string
	framed float64 // probability of the framed encoding per connection
	rng    *rand.Rand
	stats  *Stats
	c      *ecrproto.Client
	dialed bool

	mu    sync.Mutex
	armed func() // called at the next EVENT (a drop waiting for its moment)
}

// transportError is a request that got no answer: the connection broke,
// was dropped, or the answer did not come in time.
type transportError struct{ err error }

func (e *transportError) Error() string { return "no answer: " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// Backoff bounds of reconnects and retries.
const (
	backoffMin = 20 * time.Millisecond
	backoffMax = time.Second
	dialBound  = 2 * time.Second
	dropWindow = 400 * time.Millisecond
)

// conn returns the open connection, or dials until one opens or ctx ends.
func (cl *client) conn(ctx context.Context) (*ecrproto.Client, error) {
	if cl.c != nil {
		select {
		case <-cl.c.Done():
			cl.c = nil
		default:
			return cl.c, nil
		}
	}
	for wait := backoffMin; ; wait = min(wait*2, backoffMax) {
		dctx, cancel := context.WithTimeout(ctx, dialBound)
		c, err := ecrproto.Dial(dctx, "tcp", cl.addr, &ecrproto.ClientOptions{
			Framed: cl.rng.Float64() < cl.framed, OnEvent: cl.onEvent})
		cancel()
		if err == nil {
			if cl.dialed {
				cl.stats.Reconnects.Add(1)
			}
			cl.dialed, cl.c = true, c
			return c, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, &transportError{fmt.Errorf("connect: %w", err)}
		}
	}
}

// onEvent fires an armed drop at the request's first EVENT (from the
// connection's reader goroutine: the close runs on its own).
func (cl *client) onEvent(*ecrproto.Message) {
	cl.mu.Lock()
	f := cl.armed
	cl.armed = nil
	cl.mu.Unlock()
	if f != nil {
		go f()
	}
}

func (cl *client) arm(f func()) {
	cl.mu.Lock()
	cl.armed = f
	cl.mu.Unlock()
}

// close closes the connection, if any.
func (cl *client) close() {
	if cl.c != nil {
		cl.c.Close()
		cl.c = nil
	}
}

// do sends req and waits up to timeout for its final answer. With drop
// set, the connection is closed under the request at its first EVENT or
// after a random delay, whichever comes first, as when a till loses its
// link; a dropped, broken or timed-out request returns a *transportError
// and the connection is closed.
func (cl *client) do(ctx context.Context, req *ecrproto.Message, timeout time.Duration, drop bool) (*ecrproto.Message, error) {
	c, err := cl.conn(ctx)
	if err != nil {
		return nil, err
	}
	cl.stats.Requests.Add(1)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if drop {
		var once sync.Once
		var fired atomic.Bool
		cut := func() { once.Do(func() { fired.Store(true); c.Close() }) }
		t := time.AfterFunc(time.Duration(cl.rng.Int64N(int64(dropWindow))), cut)
		cl.arm(cut)
		defer func() {
			t.Stop()
			cl.arm(nil)
			if fired.Load() {
				cl.stats.Drops.Add(1)
			}
		}()
	}
	res, err := c.Do(rctx, req)
	if err != nil {
		cl.close()
		return nil, &transportError{err}
	}
	return res, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// isTransport reports whether err is a request without an answer.
func isTransport(err error) bool {
	var te *transportError
	return errors.As(err, &te)
}
