package ecrproto

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for ServerOptions and ClientOptions.
const (
	DefaultReadTimeout    = 10 * time.Second // to finish a message once its first byte arrived
	DefaultIdleTimeout    = 5 * time.Minute  // with no request in flight
	DefaultWriteTimeout   = 10 * time.Second // per write
	DefaultAckTimeout     = 2 * time.Second  // framed: wait for ACK before retransmitting
	DefaultMaxRetransmits = 3                // framed: retransmissions after the first send
	DefaultMaxConns       = 64
	DefaultMaxInFlight    = 32 // requests in flight per connection
	DefaultLocalReserve   = 16 // slots of MaxConns remote listeners never take
	DefaultAuthDelay      = time.Second
	DefaultAuthDelayMax   = 30 * time.Second
	DefaultMaxOutput      = 4 * DefaultMaxMessageSize // answer bytes waiting to be sent, per connection
	DefaultLogInterval    = time.Minute               // one warning per peer per interval
)

// Handler answers requests. The server calls ServeECR in a goroutine of
// its own for every valid request except HELLO and PING (which the server
// answers itself), so one connection may have many requests in flight.
//
// ServeECR sends any number of EVENTs and then exactly one final RESULT or
// ERROR through w. If it returns without a final answer, or panics, the
// server sends ERROR E_INTERNAL. ctx is cancelled when the connection
// closes or the server is closed; that only means nobody is listening any
// more — it must never abort a money movement.
type Handler interface {
	ServeECR(ctx context.Context, req *Message, w ResponseWriter)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Message, w ResponseWriter)

// ServeECR calls f.
func (f HandlerFunc) ServeECR(ctx context.Context, req *Message, w ResponseWriter) { f(ctx, req, w) }

// ResponseWriter sends the answers to one request.
type ResponseWriter interface {
	// Send sends an EVENT, RESULT or ERROR. Empty id, lane and ref are
	// filled from the request. It checks m with Validate, returns
	// ErrResponseDone after the final answer, and blocks until the message
	// is written (framed: acknowledged). An error means the connection is
	// gone: the ECR will recover with STATUS.
	Send(m *Message) error
	// ConnID identifies the connection, for logs; unique per Server.
	ConnID() uint64
	// Encoding is the connection's encoding.
	Encoding() Encoding
	// RemoteAddr is the peer's address, as reported by the listener.
	RemoteAddr() net.Addr
}

// ServerOptions configures a Server. Zero (or negative) values mean the
// defaults, except: a negative IdleTimeout, ReadTimeout or WriteTimeout
// disables that timeout, and a negative MaxRetransmits disables
// retransmission.
type ServerOptions struct {
	Handler        Handler       // may be nil until SetHandler: requests get E_UNAVAILABLE
	MaxMessageSize int           // DefaultMaxMessageSize
	ReadTimeout    time.Duration // DefaultReadTimeout
	IdleTimeout    time.Duration // DefaultIdleTimeout
	WriteTimeout   time.Duration // DefaultWriteTimeout
	AckTimeout     time.Duration // DefaultAckTimeout
	MaxRetransmits int           // DefaultMaxRetransmits
	MaxConns       int           // DefaultMaxConns; excess connections get E_UNAVAILABLE and are closed
	MaxInFlight    int           // DefaultMaxInFlight; excess requests get E_UNAVAILABLE
	// LocalReserve is how many of MaxConns only local listeners (those
	// without a shared key: loopback TCP, unix socket, pipe) may use, so
	// remote peers cannot lock the ECR out (DefaultLocalReserve, at most
	// half of MaxConns).
	LocalReserve int
	// AuthDelay is the delay before answering the first message of a
	// remote connection from an address whose previous one failed to
	// authenticate; it doubles with each further failure up to
	// AuthDelayMax (DefaultAuthDelay, DefaultAuthDelayMax). Negative
	// disables the delay.
	AuthDelay    time.Duration
	AuthDelayMax time.Duration
	// MaxOutput bounds the bytes of answers waiting to be sent on one
	// connection (DefaultMaxOutput): a peer that does not read is
	// disconnected when it is reached, as it is when a write times out.
	MaxOutput int
	// LogInterval is how often a peer's bad input, failed HELLOs or
	// refused connections may be logged as a warning
	// (DefaultLogInterval); the rest are logged at debug level and counted
	// in the next warning.
	LogInterval time.Duration
	Logger      *slog.Logger // default: discard
}

func (o ServerOptions) withDefaults() ServerOptions {
	o.MaxMessageSize = positive(o.MaxMessageSize, DefaultMaxMessageSize)
	o.ReadTimeout = orDefault(o.ReadTimeout, DefaultReadTimeout)
	o.IdleTimeout = orDefault(o.IdleTimeout, DefaultIdleTimeout)
	o.WriteTimeout = orDefault(o.WriteTimeout, DefaultWriteTimeout)
	o.AckTimeout = positive(o.AckTimeout, DefaultAckTimeout)
	o.MaxRetransmits = max(orDefault(o.MaxRetransmits, DefaultMaxRetransmits), 0)
	o.MaxConns = positive(o.MaxConns, DefaultMaxConns)
	o.MaxInFlight = positive(o.MaxInFlight, DefaultMaxInFlight)
	o.LocalReserve = min(positive(o.LocalReserve, DefaultLocalReserve), o.MaxConns/2)
	o.AuthDelay = orDefault(o.AuthDelay, DefaultAuthDelay)
	o.AuthDelayMax = max(positive(o.AuthDelayMax, DefaultAuthDelayMax), o.AuthDelay)
	o.MaxOutput = positive(o.MaxOutput, DefaultMaxOutput)
	o.LogInterval = positive(o.LogInterval, DefaultLogInterval)
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// orDefault replaces zero with def.
func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// positive replaces zero or a negative value with def.
func positive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// deadline returns the time d from now, or no deadline for d < 0.
func deadline(d time.Duration) time.Time {
	if d < 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// Server serves the ECR protocol on any number of listeners. Create it
// with NewServer.
type Server struct {
	opts    ServerOptions
	log     *slog.Logger
	handler atomic.Pointer[handlerBox]

	ctx      context.Context // parent of every connection's context
	cancel   context.CancelFunc
	shutting atomic.Bool

	limiter *logLimiter
	fails   *authFailures
	sleep   func(ctx context.Context, d time.Duration) error // the failed-HELLO delay; replaced by tests

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	counted   int            // conns within MaxConns
	remote    int            // of counted, those from remote listeners
	peers     map[string]int // remote conns per peer IP
	rejected  int            // local conns over MaxConns, waiting for their E_UNAVAILABLE
	nextID    uint64
	drained   chan struct{} // closed once shutting and no conns remain
	drainOnce sync.Once
}

type handlerBox struct{ h Handler }

// NewServer returns a server with opts (defaults filled in).
func NewServer(opts ServerOptions) *Server {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel,
		limiter:   newLogLimiter(opts.LogInterval, time.Now),
		fails:     newAuthFailures(opts.AuthDelay, opts.AuthDelayMax, time.Now),
		sleep:     sleepCtx,
		listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{},
		peers: map[string]int{}, drained: make(chan struct{})}
	s.SetHandler(opts.Handler)
	return s
}

// SetHandler installs h for requests read from now on; nil reverts to
// answering E_UNAVAILABLE. Safe to call while serving.
func (s *Server) SetHandler(h Handler) {
	if h == nil {
		s.handler.Store(nil)
		return
	}
	s.handler.Store(&handlerBox{h})
}

// readiness is the message of HELLO and PING answers: "ready" once a
// handler is installed, "starting" before, "stopping" during shutdown.
func (s *Server) readiness() string {
	switch {
	case s.shutting.Load():
		return "stopping"
	case s.currentHandler() == nil:
		return "starting"
	}
	return "ready"
}

func (s *Server) currentHandler() Handler {
	if b := s.handler.Load(); b != nil {
		return b.h
	}
	return nil
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// warn logs an event a peer caused (bad input, a failed HELLO, a refused
// connection) as a warning at most once per LogInterval per peer, with the
// number suppressed since; the others go to the debug level.
func (s *Server) warn(log *slog.Logger, peer, msg string, args ...any) {
	if ok, n := s.limiter.allow(peer); ok {
		log.Warn(msg, append(args, "suppressed_since_last", n)...)
		return
	}
	log.Debug(msg, args...)
}

// listenerState is what Serve knows of one listener: its remote options
// (nil for a local listener) and how many connections it holds.
type listenerState struct {
	key    string
	remote *RemoteOptions
	conns  int // remote listeners: open connections; guarded by Server.mu
}

func newListenerState(ln net.Listener) *listenerState {
	if kl, ok := ln.(*keyListener); ok {
		o := kl.opts
		return &listenerState{key: kl.key, remote: &o}
	}
	return &listenerState{}
}

// Serve accepts connections on ln until Shutdown or Close, when it returns
// ErrServerClosed; it closes ln. Listeners from RequireKey (and from
// Listen for TCP with a shared key) are remote listeners: every connection
// starts with HELLO and the key, and RemoteOptions caps them.
func (s *Server) Serve(ln net.Listener) error {
	if !s.trackListener(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrackListener(ln)
	ls := newListenerState(ln)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("ecr accept failed; retrying", "err", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if c := s.newConn(nc, ls); c != nil {
			go c.serve()
		}
	}
}

func (s *Server) trackListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrackListener(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
	ln.Close()
}

// newConn registers an accepted connection, or closes it if the server is
// shutting down or a cap refuses it (see admit).
func (s *Server) newConn(nc net.Conn, ls *listenerState) *conn {
	peer := peerHost(nc.RemoteAddr())
	c, why := s.register(nc, ls, peer)
	if c == nil {
		nc.Close()
		if why != "" {
			s.warn(s.log, peer, "ecr connection refused", "remote", addrString(nc.RemoteAddr()), "reason", why)
		}
	}
	return c
}

// register admits and records a new connection; it returns nil when the
// server is shutting down or a cap refuses it (why says which cap).
func (s *Server) register(nc net.Conn, ls *listenerState, peer string) (c *conn, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return nil, ""
	}
	reject, why := s.admit(ls, peer)
	if why != "" {
		return nil, why
	}
	s.nextID++
	c = newConn(s, s.nextID, nc, ls, peer, reject)
	s.conns[c] = struct{}{}
	return c, ""
}

// admit counts a new connection against the caps. A local connection over
// MaxConns is admitted as reject (answered E_UNAVAILABLE, then closed),
// unless as many are already waiting for that answer; a remote one over
// any cap is refused at once. why says why a connection is refused.
// Callers hold s.mu.
func (s *Server) admit(ls *listenerState, peer string) (reject bool, why string) {
	o := &s.opts
	if r := ls.remote; r != nil {
		switch {
		case s.counted >= o.MaxConns, s.remote >= o.MaxConns-o.LocalReserve:
			return false, "remote connections fill their share of max_conns"
		case ls.conns >= r.MaxConns:
			return false, "the listener's max_conns reached"
		case s.peers[peer] >= r.MaxConnsPerPeer:
			return false, "the peer's max_conns_per_peer reached"
		}
		s.counted++
		s.remote++
		ls.conns++
		s.peers[peer]++
		return false, ""
	}
	if s.counted < o.MaxConns {
		s.counted++
		return false, ""
	}
	if s.rejected >= o.MaxConns {
		return false, "max_conns reached"
	}
	s.rejected++
	return true, ""
}

// untrack forgets a connection whose goroutines have all ended.
func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.checkDrained()
}

// releaseSlot gives back the connection's place under the caps once its
// socket is closed (handlers of its requests may still run: a sale goes
// on without its connection), so a client that saw the connection close
// can connect again at once. Called once per connection.
func (s *Server) releaseSlot(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case c.reject:
		s.rejected--
	case c.ls.remote != nil:
		s.counted--
		s.remote--
		c.ls.conns--
		if s.peers[c.peer]--; s.peers[c.peer] <= 0 {
			delete(s.peers, c.peer)
		}
	default:
		s.counted--
	}
}

// checkDrained closes drained once shutting down with no connections
// left. Callers hold s.mu.
func (s *Server) checkDrained() {
	if s.shutting.Load() && len(s.conns) == 0 {
		s.drainOnce.Do(func() { close(s.drained) })
	}
}

// Shutdown stops accepting, closes idle connections, answers new requests
// E_UNAVAILABLE, and waits for in-flight requests to finish (each
// connection closes as soon as it has none). If ctx ends first, it closes
// everything as Close does and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginShutdown()
	select {
	case <-s.drained:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close stops the server at once: it closes the listeners and every
// connection and cancels handler contexts. It does not wait for handlers.
func (s *Server) Close() error {
	s.beginShutdown()
	s.cancel()
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	return nil
}

func (s *Server) beginShutdown() {
	s.mu.Lock()
	s.shutting.Store(true)
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.checkDrained()
	s.mu.Unlock()
	for _, c := range conns {
		c.closeIfIdle()
	}
}
