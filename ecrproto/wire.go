package ecrproto

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Encoding is a connection's encoding, chosen by its first byte.
type Encoding uint8

// The two encodings.
const (
	EncodingJSON   Encoding = iota + 1 // JSON lines; first byte '{'
	EncodingFramed                     // STX payload ETX LRC frames; first byte STX
)

// String returns "json" or "framed".
func (e Encoding) String() string {
	switch e {
	case EncodingJSON:
		return "json"
	case EncodingFramed:
		return "framed"
	}
	return "unknown"
}

// detectStep looks at the next byte and decides the encoding: STX means
// framed, '{' JSON; other control bytes and spaces before the first
// message are skipped (done=false); anything else is read as JSON lines,
// where it will be answered E_FORMAT.
func detectStep(br *bufio.Reader) (enc Encoding, done bool, err error) {
	b, err := br.Peek(1)
	if err != nil {
		return 0, false, err
	}
	switch c := b[0]; {
	case c == STX:
		return EncodingFramed, true, nil
	case c == '{':
		return EncodingJSON, true, nil
	case c <= ' ' || c == 0x7F:
		_, err = br.ReadByte()
		return 0, false, err
	}
	return EncodingJSON, true, nil
}

// wire reads and writes messages in one encoding over one connection.
type wire interface {
	// readItem reads one item: a message; an *Error for input the peer
	// should hear about (with the partly decoded message, if any); or
	// (nil, nil) for link traffic handled internally (ACK, NAK, noise,
	// blank lines, damaged frames). Any other error ends the connection.
	readItem() (*Message, error)
	// send writes m; in the framed encoding it waits for the peer's ACK,
	// retransmitting as configured.
	send(ctx context.Context, m *Message) error
}

// wireConfig holds the knobs shared by the server and the client.
type wireConfig struct {
	maxSize      int
	writeTimeout time.Duration
	ackTimeout   time.Duration
	retransmits  int
	// maxOutput bounds the bytes of messages waiting to be sent; 0 means
	// no bound. Going over it fails the send with ErrSlowReader.
	maxOutput int
	// screen, if set, sees every non-blank JSON line before it is decoded;
	// an error it returns ends the connection.
	screen func(line []byte) error
}

func newWire(enc Encoding, nc net.Conn, br *bufio.Reader, cfg wireConfig, done <-chan struct{}) wire {
	w := &rawWriter{conn: nc, timeout: cfg.writeTimeout, maxOutput: int64(cfg.maxOutput)}
	if enc == EncodingFramed {
		l := &link{w: w, ackTimeout: cfg.ackTimeout, retransmits: cfg.retransmits,
			slot: make(chan struct{}, 1), ctl: make(chan FrameKind, 1), done: done}
		return &frameWire{r: NewFrameReader(br, cfg.maxSize), w: w, link: l}
	}
	return &jsonWire{r: NewJSONReader(br, cfg.maxSize), w: w, screen: cfg.screen}
}

// rawWriter serialises whole writes (a line, a frame, an ACK byte) on a
// connection, each bounded by the write timeout. It also keeps the count
// of message bytes waiting to be sent (reserve, release).
type rawWriter struct {
	mu        sync.Mutex
	conn      net.Conn
	timeout   time.Duration
	maxOutput int64 // 0: no bound
	pending   atomic.Int64
}

// reserve counts n bytes of a message about to wait for the connection.
// It fails with ErrSlowReader when that would put more than maxOutput
// bytes in waiting; a message is always let through when nothing waits,
// whatever its size.
func (w *rawWriter) reserve(n int) error {
	if w.maxOutput <= 0 {
		return nil
	}
	total := w.pending.Add(int64(n))
	if total > w.maxOutput && total > int64(n) {
		w.pending.Add(-int64(n))
		return ErrSlowReader
	}
	return nil
}

// release uncounts n bytes reserved before.
func (w *rawWriter) release(n int) {
	if w.maxOutput > 0 {
		w.pending.Add(-int64(n))
	}
}

func (w *rawWriter) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timeout > 0 {
		if err := w.conn.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
			return err
		}
	}
	_, err := w.conn.Write(b)
	return err
}

type jsonWire struct {
	r      *JSONReader
	w      *rawWriter
	screen func([]byte) error
}

func (j *jsonWire) readItem() (*Message, error) {
	line, err := j.r.readLine()
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, nil
	}
	if j.screen != nil {
		if err := j.screen(line); err != nil {
			return nil, err
		}
	}
	return DecodeJSON(line)
}

func (j *jsonWire) send(_ context.Context, m *Message) error {
	b, err := AppendJSON(make([]byte, 0, 256), m)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := j.w.reserve(len(b)); err != nil {
		return err
	}
	defer j.w.release(len(b))
	return j.w.write(b)
}

type frameWire struct {
	r    *FrameReader
	w    *rawWriter
	link *link
}

func (f *frameWire) readItem() (*Message, error) {
	fr, err := f.r.ReadFrame()
	var pe *Error
	switch {
	case errors.Is(err, ErrBadLRC):
		return nil, f.w.write([]byte{NAK})
	case errors.As(err, &pe):
		if werr := f.w.write([]byte{ACK}); werr != nil {
			return nil, werr
		}
		return nil, pe
	case err != nil:
		return nil, err
	}
	switch fr.Kind {
	case FrameACK, FrameNAK:
		f.link.control(fr.Kind)
		return nil, nil
	case FrameNoise:
		return nil, nil
	}
	if err := f.w.write([]byte{ACK}); err != nil {
		return nil, err
	}
	return DecodeFields(fr.Payload)
}

func (f *frameWire) send(ctx context.Context, m *Message) error {
	payload, err := AppendFields(make([]byte, 0, 256), m)
	if err != nil {
		return err
	}
	n := len(payload) + 3 // STX, ETX, LRC
	if err := f.w.reserve(n); err != nil {
		return err
	}
	defer f.w.release(n)
	return f.link.send(ctx, payload)
}

// link is the sending half of the framed encoding: stop-and-wait, one
// frame outstanding at a time, retransmitted on NAK or when no ACK comes
// within ackTimeout, up to retransmits times.
type link struct {
	w           *rawWriter
	ackTimeout  time.Duration
	retransmits int
	slot        chan struct{}  // held while a frame is outstanding
	ctl         chan FrameKind // ACK/NAK from the reader
	done        <-chan struct{}
}

// control hands an ACK or NAK from the reader to the waiting sender. With
// no frame outstanding it is kept until the next send, which discards it.
func (l *link) control(k FrameKind) {
	select {
	case l.ctl <- k:
	default:
	}
}

func (l *link) send(ctx context.Context, payload []byte) error {
	select {
	case l.slot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-l.done:
		return &LinkError{Err: net.ErrClosed}
	}
	defer func() { <-l.slot }()
	select { // a late ACK or NAK for an earlier frame
	case <-l.ctl:
	default:
	}
	return l.transmit(ctx, AppendFrame(nil, payload))
}

func (l *link) transmit(ctx context.Context, frame []byte) error {
	timer := time.NewTimer(l.ackTimeout)
	defer timer.Stop()
	attempts := 1 + l.retransmits
	for n := 1; n <= attempts; n++ {
		if err := l.w.write(frame); err != nil {
			return &LinkError{Attempts: n, Err: err}
		}
		timer.Reset(l.ackTimeout)
		select {
		case k := <-l.ctl:
			if k == FrameACK {
				return nil
			}
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			select { // the ACK may have come just before the close
			case k := <-l.ctl:
				if k == FrameACK {
					return nil
				}
			default:
			}
			return &LinkError{Attempts: n, Err: net.ErrClosed}
		}
	}
	return &LinkError{Attempts: attempts, Err: ErrNoAck}
}

// isTimeout reports whether err is a read or write deadline expiring.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
