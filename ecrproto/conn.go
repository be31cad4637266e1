package ecrproto

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Reasons a connection ends, for the log.
var (
	errIdle     = errors.New("idle timeout")
	errShutdown = errors.New("server shutting down")
	errHTTP     = errors.New("the first line is HTTP, not the ECR protocol")
)

// conn is one server-side connection: a reader goroutine (serve) and a
// goroutine per request in flight.
type conn struct {
	srv     *Server
	id      uint64
	nc      net.Conn
	br      *bufio.Reader
	wire    wire
	enc     Encoding
	ctx     context.Context // cancelled when the connection closes
	cancel  context.CancelFunc
	log     *slog.Logger
	ls      *listenerState
	peer    string // peerHost of the remote address
	needKey string // remote access: HELLO with this key must come first
	reject  bool   // over MaxConns: answer the first request E_UNAVAILABLE, close
	hello   *time.Timer

	// established is set by the reader once a valid request arrived;
	// before, HTTP-looking or undecodable input closes the connection.
	established bool

	mu         sync.Mutex
	inflight   int                 // handler requests running and answers queued or being written
	ids        map[string]*Message // handler requests in flight by id, until their final answer is written
	queue      []queuedReply       // answers the server composed, for writeReplies
	queued     int                 // bytes in queue
	writing    bool                // writeReplies is running
	lastActive time.Time
	authed     bool
	closing    bool // answer what is in flight, then close; read nothing new
	handlers   sync.WaitGroup
	closeOnce  sync.Once
}

func newConn(s *Server, id uint64, nc net.Conn, ls *listenerState, peer string, reject bool) *conn {
	ctx, cancel := context.WithCancel(s.ctx)
	return &conn{srv: s, id: id, nc: nc, br: bufio.NewReaderSize(nc, 4096),
		ctx: ctx, cancel: cancel, ls: ls, peer: peer, needKey: ls.key, reject: reject, authed: ls.key == "",
		ids: map[string]*Message{}, lastActive: time.Now(),
		log: s.log.With("conn", id, "remote", addrString(nc.RemoteAddr()))}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (c *conn) serve() {
	defer c.srv.untrack(c)
	defer c.handlers.Wait()
	defer c.close()
	c.log.Debug("ecr connection opened", "rejected", c.reject)
	if r := c.ls.remote; r != nil && r.HelloTimeout > 0 {
		log := c.log // the reader adds the encoding to c.log
		c.hello = time.AfterFunc(r.HelloTimeout, func() {
			c.srv.warn(log, c.peer, "ecr remote connection sent no HELLO in time; closing", "hello_timeout", r.HelloTimeout)
			c.close()
		})
		defer c.hello.Stop()
	}
	err := c.readLoop()
	c.log.Debug("ecr connection closed", "reason", err)
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.srv.releaseSlot(c) // before the peer can see the close
		c.cancel()
		c.nc.Close()
	})
}

// closeIfIdle closes the connection if no request is in flight; otherwise
// the last request to finish closes it (the server is shutting down).
func (c *conn) closeIfIdle() {
	c.mu.Lock()
	idle := c.inflight == 0
	c.mu.Unlock()
	if idle {
		c.close()
	}
}

func (c *conn) readLoop() error {
	if err := c.detect(); err != nil {
		return err
	}
	o := &c.srv.opts
	c.wire = newWire(c.enc, c.nc, c.br, wireConfig{maxSize: o.MaxMessageSize,
		writeTimeout: o.WriteTimeout, ackTimeout: o.AckTimeout, retransmits: o.MaxRetransmits,
		maxOutput: o.MaxOutput, screen: c.screen}, c.ctx.Done())
	c.log = c.log.With("encoding", c.enc.String())
	for {
		if err := c.awaitInput(); err != nil {
			return err
		}
		if err := c.nc.SetReadDeadline(deadline(o.ReadTimeout)); err != nil {
			return err
		}
		m, err := c.wire.readItem()
		var pe *Error
		if err != nil && !errors.As(err, &pe) {
			return err
		}
		if m == nil && pe == nil {
			continue
		}
		if err := c.accept(m, pe); err != nil {
			return err
		}
	}
}

// detect chooses the encoding from the first significant byte.
func (c *conn) detect() error {
	for {
		if err := c.awaitInput(); err != nil {
			return err
		}
		enc, done, err := detectStep(c.br)
		if err != nil {
			return err
		}
		if done {
			c.enc = enc
			return nil
		}
	}
}

// screen refuses a JSON line that looks like HTTP (a request line or a
// header) before the connection's first valid request: a web page in a
// browser on the till can send those to a loopback port, and must not get
// the lines of its body run as requests. The connection is closed with
// no answer.
func (c *conn) screen(line []byte) error {
	if c.established || !looksLikeHTTP(line) {
		return nil
	}
	if !c.authed {
		c.srv.fails.failed(c.peer)
	}
	c.srv.warn(c.log, c.peer, "ecr HTTP request on the ECR port refused; closing", "line", clip(string(line)))
	return errHTTP
}

// awaitInput waits for the next byte under the idle rules: a connection
// with a request in flight is never idle; one without is closed after
// IdleTimeout (ReadTimeout for a rejected connection) with no request.
func (c *conn) awaitInput() error {
	for {
		if c.srv.shutting.Load() && c.idleNow() {
			return errShutdown
		}
		if err := c.nc.SetReadDeadline(c.idleDeadline()); err != nil {
			return err
		}
		_, err := c.br.Peek(1)
		if err == nil {
			return nil
		}
		if !isTimeout(err) {
			return err
		}
		if c.idleExpired() {
			return errIdle
		}
	}
}

func (c *conn) idleTimeout() time.Duration {
	if c.reject {
		return c.srv.opts.ReadTimeout
	}
	return c.srv.opts.IdleTimeout
}

func (c *conn) idleDeadline() time.Time {
	d := c.idleTimeout()
	if d < 0 {
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight > 0 {
		return deadline(d)
	}
	return c.lastActive.Add(d)
}

func (c *conn) idleExpired() bool {
	d := c.idleTimeout()
	c.mu.Lock()
	defer c.mu.Unlock()
	return d >= 0 && c.inflight == 0 && !time.Now().Before(c.lastActive.Add(d))
}

func (c *conn) idleNow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight == 0
}

// accept handles one message (or decode error) read from the peer. A
// non-nil return ends the connection.
func (c *conn) accept(m *Message, pe *Error) error {
	c.mu.Lock()
	c.lastActive = time.Now()
	closing, authed := c.closing, c.authed
	c.mu.Unlock()
	switch {
	case closing:
		return nil // draining: only ACKs matter now
	case c.reject:
		return c.finish(m, Errorf(CodeUnavailable, "too many connections; try again later"))
	case !authed:
		return c.authenticate(m, pe)
	case pe != nil && !c.established && (pe.Code == CodeFormat || pe.Code == CodeTooLarge):
		// Not the protocol at all: answer without echoing anything, close.
		c.srv.warn(c.log, c.peer, "ecr undecodable input before any valid request; closing",
			"code", pe.Code, "detail", clip(pe.Message))
		return c.finish(nil, pe)
	case pe != nil:
		if pe.Code == CodeField && m != nil && m.Type != "" && !IsRequest(m.Type) {
			pe = notRequest(m.Type) // an answer or unknown type: the fields it carries do not matter
		}
		c.srv.warn(c.log, c.peer, "ecr bad input", "code", pe.Code, "field", clip(pe.Field), "detail", clip(pe.Message))
		return c.reply(pe.Reply(m))
	}
	return c.dispatch(m)
}

// authenticate admits a remote connection whose first message is HELLO
// with the shared key; anything else gets E_AUTH and the connection closes.
// After failures from the same address the answer is delayed (AuthDelay).
func (c *conn) authenticate(m *Message, pe *Error) error {
	if c.hello != nil {
		c.hello.Stop() // the first message came in time
	}
	if d := c.srv.fails.delay(c.peer); d > 0 {
		c.log.Debug("ecr delaying the HELLO answer after failed ones", "delay", d)
		if err := c.srv.sleep(c.ctx, d); err != nil {
			return err
		}
	}
	if pe == nil && m.Type == TypeHello &&
		subtle.ConstantTimeCompare([]byte(m.Key), []byte(c.needKey)) == 1 {
		c.srv.fails.succeeded(c.peer)
		c.mu.Lock()
		c.authed = true
		c.mu.Unlock()
		return c.dispatch(m)
	}
	c.srv.fails.failed(c.peer)
	c.srv.warn(c.log, c.peer, "ecr authentication failed")
	return c.finish(m, Errorf(CodeAuth, "send HELLO with the shared key first"))
}

// finish answers err and then closes the connection.
func (c *conn) finish(m *Message, err *Error) error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	return c.reply(err.Reply(m))
}

// dispatch validates a request and starts answering it: HELLO and PING
// by queueing their answer, the others by running the handler.
func (c *conn) dispatch(m *Message) error {
	if !IsRequest(m.Type) && m.Type != "" {
		return c.reply(notRequest(m.Type).Reply(m))
	}
	if err := m.Validate(); err != nil {
		pe := AsError(err)
		c.srv.warn(c.log, c.peer, "ecr invalid request", "type", clip(m.Type), "code", pe.Code, "field", pe.Field)
		return c.reply(pe.Reply(m))
	}
	c.established = true
	if refusal, dup := c.checkInFlight(m); dup || refusal != nil {
		if refusal == nil {
			c.log.Debug("ecr retransmitted request ignored", "id", m.ID)
			return nil
		}
		return c.reply(refusal)
	}
	c.log.Debug("ecr request", "msg", m)
	if m.Type == TypeHello || m.Type == TypePing {
		return c.reply(c.srv.greeting(m))
	}
	return c.spawn(m, func() { c.serveRequest(m) })
}

// notRequest is the E_TYPE error for a message of type typ that is not a
// request.
func notRequest(typ string) *Error {
	switch typ {
	case TypeResult, TypeEvent, TypeError:
		return Errorf(CodeType, "%s is not a request type", typ)
	}
	return Errorf(CodeType, "unknown message type %.32q", typ)
}

// checkInFlight refuses a request whose id belongs to a request still in
// flight with different content, and reports an identical one (a
// retransmission) as dup. The refusal carries the id in dup_id, never in
// id: it must not be taken for the running request's final answer. It
// also applies MaxInFlight to requests for the handler.
func (c *conn) checkInFlight(m *Message) (refusal *Message, dup bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.ids[m.ID]; ok {
		if equalMessages(prev, m) {
			return nil, true
		}
		r := FieldError("id", "a request with this id is still in flight; use another id").Reply(m)
		r.ID, r.DupID = "", clip(m.ID)
		return r, false
	}
	if m.Type != TypeHello && m.Type != TypePing && len(c.ids) >= c.srv.opts.MaxInFlight {
		return Errorf(CodeUnavailable, "too many requests in flight on this connection").Reply(m), false
	}
	return nil, false
}

// spawn runs the handler request req in a goroutine, registered by id for
// the duplicate check and counted as in flight. MaxInFlight bounds these
// goroutines (checkInFlight).
func (c *conn) spawn(req *Message, fn func()) error {
	c.mu.Lock()
	c.inflight++
	c.ids[req.ID] = req
	c.handlers.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.finished(req)
		defer c.handlers.Done()
		fn()
	}()
	return nil
}

// release forgets req's id once its final answer is about to be written,
// so the ECR may use the id again as soon as it has that answer.
func (c *conn) release(req *Message) {
	c.mu.Lock()
	if c.ids[req.ID] == req {
		delete(c.ids, req.ID)
	}
	c.mu.Unlock()
}

// finished ends a request (req, if not nil, a handler request) or a queued
// answer: it is no longer in flight. The last one closes a connection
// that is closing.
func (c *conn) finished(req *Message) {
	c.mu.Lock()
	c.inflight--
	if req != nil && c.ids[req.ID] == req {
		delete(c.ids, req.ID)
	}
	c.lastActive = time.Now()
	idle, closing := c.inflight == 0, c.closing
	c.mu.Unlock()
	if idle && (closing || c.srv.shutting.Load()) {
		c.close()
	}
}

// queuedReply is an answer the server composed, waiting to be written.
type queuedReply struct {
	m    *Message
	size int
}

// reply queues an answer the server composes itself (HELLO, PING, an
// ERROR for bad input or a refused request); one goroutine writes the
// queue in order. The queue is bounded like every answer (MaxOutput): a
// peer that sends requests without reading the answers is disconnected
// (the error returned ends the connection).
func (c *conn) reply(m *Message) error {
	n := DefaultMaxMessageSize // a message that cannot be encoded still counts
	if b, err := AppendJSON(nil, m); err == nil {
		n = len(b) + 1
	}
	c.mu.Lock()
	if c.queued > 0 && c.queued+n > c.srv.opts.MaxOutput {
		c.mu.Unlock()
		c.srv.warn(c.log, c.peer, "ecr peer does not read its answers; closing", "err", ErrSlowReader)
		return ErrSlowReader
	}
	c.queue = append(c.queue, queuedReply{m, n})
	c.queued += n
	c.inflight++
	start := !c.writing
	if start {
		c.writing = true
		c.handlers.Add(1)
	}
	c.mu.Unlock()
	if start {
		go c.writeReplies()
	}
	return nil
}

// writeReplies writes the queued answers until the queue is empty. It
// stops counting as a goroutine of the connection before the last answer
// ends, which may close the connection.
func (c *conn) writeReplies() {
	for {
		c.mu.Lock()
		q := c.queue[0]
		c.queue[0] = queuedReply{}
		c.queue = c.queue[1:]
		c.mu.Unlock()
		c.sendQuiet(q.m)
		c.mu.Lock()
		c.queued -= q.size
		last := len(c.queue) == 0
		if last {
			c.writing = false
		}
		c.mu.Unlock()
		if last {
			c.handlers.Done()
			c.finished(nil)
			return
		}
		c.finished(nil)
	}
}

// send writes one message. A failed write leaves the stream unusable, so
// it closes the connection: a dead framed link, a peer that does not read
// (a write timed out, or MaxOutput bytes are waiting), a broken socket.
func (c *conn) send(m *Message) error {
	err := c.wire.send(c.ctx, m)
	if err == nil {
		c.log.Debug("ecr response", "msg", m)
		return nil
	}
	var (
		le *LinkError
		pe *Error
	)
	switch {
	case errors.As(err, &pe):
		return err // the message could not be encoded; the stream is intact
	case errors.As(err, &le):
		c.srv.warn(c.log, c.peer, "ecr link failed; closing", "err", err)
	case errors.Is(err, ErrSlowReader), isTimeout(err):
		c.srv.warn(c.log, c.peer, "ecr peer does not read its answers; closing", "err", err)
	}
	c.close()
	return err
}

// sendQuiet sends an answer the server composed itself; a failure is
// only logged (the peer is gone).
func (c *conn) sendQuiet(m *Message) {
	if err := c.send(m); err != nil {
		c.log.Debug("ecr send failed", "type", m.Type, "err", err)
	}
}
