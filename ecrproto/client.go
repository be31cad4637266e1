package ecrproto

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ClientOptions configures a Client. Zero values mean the defaults; a
// negative WriteTimeout disables it.
type ClientOptions struct {
	// Framed selects the legacy framed encoding (with ACK/NAK and
	// retransmission) instead of JSON lines.
	Framed bool
	// Key, if set, is sent in a HELLO right after connecting (remote
	// access); Dial fails if the server refuses it.
	Key string
	// OnEvent receives every EVENT, from the connection's reader
	// goroutine: it must return quickly and must not call Do.
	OnEvent func(*Message)
	// MaxMessageSize bounds messages from the server (DefaultMaxMessageSize).
	MaxMessageSize int
	// WriteTimeout bounds each write (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// AckTimeout and MaxRetransmits drive framed retransmission
	// (DefaultAckTimeout, DefaultMaxRetransmits; negative: none).
	AckTimeout     time.Duration
	MaxRetransmits int
	// Logger receives debug traces (default: discard).
	Logger *slog.Logger
}

// Client is a connection to an ECR server. Requests may be issued
// concurrently; answers are matched by id.
type Client struct {
	nc     net.Conn
	wire   wire
	enc    Encoding
	opts   ClientOptions
	log    *slog.Logger
	prefix string
	seq    atomic.Uint64

	mu      sync.Mutex
	pending map[string]chan *Message
	orphan  *Message // last ERROR without an id that matched no request
	err     error    // why the reader stopped
	done    chan struct{}
	once    sync.Once
}

// Dial connects to an ECR server (see DialConn for network and addr) and
// returns a Client. With opts.Key set it first completes a HELLO.
func Dial(ctx context.Context, network, addr string, opts *ClientOptions) (*Client, error) {
	nc, err := DialConn(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("ecrproto: connect to %s %s (is the daemon running?): %w", network, addr, err)
	}
	c := NewClient(nc, opts)
	if c.opts.Key == "" {
		return c, nil
	}
	r, err := c.Hello(ctx)
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("ecrproto: hello: %w", err)
	}
	return c, nil
}

// NewClient runs the protocol over an open connection and takes ownership
// of it.
func NewClient(nc net.Conn, opts *ClientOptions) *Client {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{nc: nc, opts: o, log: o.Logger, enc: EncodingJSON,
		prefix: rand.Text()[:8], pending: map[string]chan *Message{}, done: make(chan struct{})}
	if o.Framed {
		c.enc = EncodingFramed
	}
	c.wire = newWire(c.enc, nc, bufio.NewReaderSize(nc, 4096), wireConfig{
		maxSize:      positive(o.MaxMessageSize, DefaultMaxMessageSize),
		writeTimeout: orDefault(o.WriteTimeout, DefaultWriteTimeout),
		ackTimeout:   positive(o.AckTimeout, DefaultAckTimeout),
		retransmits:  max(orDefault(o.MaxRetransmits, DefaultMaxRetransmits), 0),
	}, c.done)
	go c.readLoop()
	return c
}

// Encoding is the client's encoding.
func (c *Client) Encoding() Encoding { return c.enc }

// Close closes the connection. Requests in flight return ErrClientClosed;
// the server finishes them anyway (recover with STATUS).
func (c *Client) Close() error {
	err := c.nc.Close()
	<-c.done
	return err
}

// Done is closed when the connection is gone.
func (c *Client) Done() <-chan struct{} { return c.done }

// Do sends req and returns its final RESULT or ERROR message; EVENTs go to
// OnEvent. An empty id is filled in (req itself is not modified). The
// error is for transport failures only: ctx ending, the connection
// breaking (ErrClientClosed), a frame never acknowledged (*LinkError), or
// a value that cannot be encoded (*Error).
func (c *Client) Do(ctx context.Context, req *Message) (*Message, error) {
	m := req.Clone()
	if m.ID == "" {
		m.ID = fmt.Sprintf("%s-%d", c.prefix, c.seq.Add(1))
	}
	ch, err := c.register(m.ID)
	if err != nil {
		return nil, err
	}
	defer c.unregister(m.ID)
	if err := c.wire.send(ctx, m); err != nil {
		return nil, fmt.Errorf("ecrproto: send %s: %w", m.Type, err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		select {
		case r := <-ch:
			return r, nil
		default:
			return nil, c.closedErr()
		}
	}
}

func (c *Client) register(id string) (chan *Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.closedErrLocked()
	}
	if _, dup := c.pending[id]; dup {
		return nil, fmt.Errorf("ecrproto: request id %q already in flight", id)
	}
	ch := make(chan *Message, 1)
	c.pending[id] = ch
	return ch, nil
}

func (c *Client) unregister(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

func (c *Client) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closedErrLocked()
}

func (c *Client) closedErrLocked() error {
	if c.orphan != nil {
		return fmt.Errorf("%w: server said %s: %s", ErrClientClosed, c.orphan.Code, c.orphan.Message)
	}
	if c.err == nil || errors.Is(c.err, net.ErrClosed) {
		return ErrClientClosed
	}
	return fmt.Errorf("%w: %v", ErrClientClosed, c.err)
}

func (c *Client) readLoop() {
	var err error
	for {
		var m *Message
		m, err = c.wire.readItem()
		var pe *Error
		if errors.As(err, &pe) {
			c.log.Debug("ecr client: undecodable message from server", "err", err)
			continue
		}
		if err != nil {
			break
		}
		if m != nil {
			c.deliver(m)
		}
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	c.nc.Close()
	close(c.done)
}

// deliver routes a message from the server: EVENTs to OnEvent, final
// answers to the request with their id. An ERROR without an id (input the
// server could not decode) goes to the only request in flight, if there is
// exactly one — unless it refuses an id in use (DupID): that answers a
// request this client did not send, never the running one.
func (c *Client) deliver(m *Message) {
	if m.Type == TypeEvent {
		if c.opts.OnEvent != nil {
			c.opts.OnEvent(m)
		}
		return
	}
	if !m.IsFinal() {
		return
	}
	c.mu.Lock()
	id := m.ID
	ch, ok := c.pending[id]
	if !ok && id == "" && m.Type == TypeError && m.DupID == "" {
		if len(c.pending) == 1 {
			for k, only := range c.pending {
				id, ch, ok = k, only, true
			}
		} else {
			c.orphan = m
		}
	}
	if ok {
		delete(c.pending, id)
	}
	c.mu.Unlock()
	if ok {
		ch <- m
	} else {
		c.log.Debug("ecr client: unmatched answer", "msg", m)
	}
}
