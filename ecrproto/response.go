package ecrproto

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
)

// greeting is the server's own answer to HELLO or PING: OK with the
// readiness (and, for HELLO, the protocol version).
func (s *Server) greeting(req *Message) *Message {
	m := &Message{Type: TypeResult, ID: req.ID, Status: StatusOK, Message: s.readiness()}
	if req.Type == TypeHello {
		m.Version = ProtocolVersion
	}
	return m
}

// serveRequest answers one valid request through the handler, with panic
// recovery and a guaranteed final answer.
func (c *conn) serveRequest(req *Message) {
	rw := &response{c: c, req: req}
	defer c.recoverHandler(rw)
	switch h := c.srv.currentHandler(); {
	case c.srv.shutting.Load():
		rw.sendFinal(Errorf(CodeUnavailable, "shutting down; try again shortly"))
	case h == nil:
		rw.sendFinal(Errorf(CodeUnavailable, "starting up; try again shortly"))
	default:
		h.ServeECR(c.ctx, req, rw)
	}
}

// recoverHandler turns a panic, or a handler that returned without a
// final answer, into ERROR E_INTERNAL. The connection and server survive.
func (c *conn) recoverHandler(rw *response) {
	if p := recover(); p != nil {
		c.log.Error("ecr handler panic", "type", rw.req.Type, "id", rw.req.ID,
			"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		rw.sendFinal(Errorf(CodeInternal, "internal error"))
		return
	}
	if rw.isDone() {
		return
	}
	if c.ctx.Err() != nil {
		// The connection dropped (or the server closed) while the request
		// ran: nobody is left to answer, which is normal — the money
		// movement goes on, and the ECR recovers with STATUS.
		c.log.Info("ecr connection gone before the answer; the ECR recovers with STATUS", "type", rw.req.Type, "id", rw.req.ID)
		return
	}
	c.log.Error("ecr handler returned without a final answer", "type", rw.req.Type, "id", rw.req.ID)
	rw.sendFinal(Errorf(CodeInternal, "internal error: no result"))
}

// response is the ResponseWriter for one request.
type response struct {
	c    *conn
	req  *Message
	mu   sync.Mutex
	done bool
}

var _ ResponseWriter = (*response)(nil)

func (r *response) ConnID() uint64       { return r.c.id }
func (r *response) Encoding() Encoding   { return r.c.enc }
func (r *response) RemoteAddr() net.Addr { return r.c.nc.RemoteAddr() }

func (r *response) isDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// Send implements ResponseWriter.
func (r *response) Send(m *Message) error {
	if m == nil {
		return errors.New("ecrproto: Send(nil)")
	}
	out := m.Clone()
	if out.ID == "" {
		out.ID = r.req.ID
	}
	if out.Lane == "" {
		out.Lane = r.req.Lane
	}
	if out.Ref == "" {
		out.Ref = r.req.Ref
	}
	if out.Type != TypeEvent && !out.IsFinal() {
		return fmt.Errorf("ecrproto: Send: %q is not EVENT, RESULT or ERROR", out.Type)
	}
	if err := out.Validate(); err != nil {
		return fmt.Errorf("ecrproto: Send: %w", err)
	}
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return ErrResponseDone
	}
	r.done = out.IsFinal()
	r.mu.Unlock()
	if r.done {
		r.c.release(r.req) // the id is free again once the ECR can have this answer
	}
	return r.c.send(out)
}

// sendFinal sends err as the final answer unless one was already sent.
func (r *response) sendFinal(err *Error) {
	if e := r.Send(err.Reply(r.req)); e != nil && !errors.Is(e, ErrResponseDone) {
		r.c.log.Debug("ecr send failed", "err", e)
	}
}

// equalMessages reports whether a and b carry the same fields.
func equalMessages(a, b *Message) bool {
	for i := range fieldTable {
		f := &fieldTable[i]
		va, oka := f.text(a)
		vb, okb := f.text(b)
		if oka != okb || va != vb {
			return false
		}
	}
	return true
}
