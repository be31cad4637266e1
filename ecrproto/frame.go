package ecrproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Control bytes of the legacy framed encoding.
const (
	STX byte = 0x02 // start of a frame
	ETX byte = 0x03 // end of a frame's payload; the LRC byte follows
	ACK byte = 0x06 // the frame arrived intact
	NAK byte = 0x15 // the frame arrived damaged: send it again
	FS  byte = 0x1C // separates name=value fields in a payload
)

// LRC returns the longitudinal redundancy check of a frame: the XOR of
// every payload byte and of ETX (STX is not included).
func LRC(payload []byte) byte {
	x := ETX
	for _, b := range payload {
		x ^= b
	}
	return x
}

// AppendFrame appends STX payload ETX LRC to dst.
func AppendFrame(dst, payload []byte) []byte {
	dst = append(dst, STX)
	dst = append(dst, payload...)
	return append(dst, ETX, LRC(payload))
}

// AppendFields appends m as a frame payload: name=value fields separated
// by FS, in wire order, absent fields omitted. Amounts are decimal digits.
// It returns an *Error (E_FIELD) for a value neither encoding can carry.
func AppendFields(dst []byte, m *Message) ([]byte, error) {
	if err := checkFields(m); err != nil {
		return dst, err
	}
	first := true
	for i := range fieldTable {
		f := &fieldTable[i]
		v, ok := f.text(m)
		if !ok {
			continue
		}
		if !first {
			dst = append(dst, FS)
		}
		first = false
		dst = append(dst, f.name...)
		dst = append(dst, '=')
		dst = append(dst, v...)
	}
	return dst, nil
}

// EncodeFrame returns m as a complete frame: STX fields ETX LRC.
func EncodeFrame(m *Message) ([]byte, error) {
	payload, err := AppendFields(nil, m)
	if err != nil {
		return nil, err
	}
	return AppendFrame(nil, payload), nil
}

// DecodeFields decodes a frame payload. The rules:
//   - the payload is valid UTF-8: fields separated by FS, each name=value
//     (the first '=' splits; the value may contain '=');
//   - empty fields (e.g. a trailing FS) are skipped; an empty value is the
//     same as absent;
//   - amount and amount_cny are ASCII digits only (leading zeros allowed);
//   - a field may appear once; unknown names are ignored; names are
//     case-sensitive;
//   - in a request, fields its type does not use (RequestFields) are
//     ignored like unknown names: not checked, left empty.
//
// Errors are *Error (E_FORMAT or E_FIELD). The returned Message is never
// nil: on a field error it holds the other fields.
func DecodeFields(payload []byte) (*Message, error) {
	m := &Message{}
	if !utf8.Valid(payload) {
		return m, Errorf(CodeFormat, "payload is not valid UTF-8")
	}
	var (
		seen uint32
		errs []fieldErr
	)
	for _, part := range strings.Split(string(payload), string(FS)) {
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return m, Errorf(CodeFormat, "field %.20q is not name=value", part)
		}
		i, f := lookupField(name)
		if f == nil {
			continue
		}
		if seen&(1<<i) != 0 {
			errs = append(errs, fieldErr{i, FieldError(name, "appears more than once")})
			continue
		}
		seen |= 1 << i
		if e := f.setText(m, value); e != nil {
			errs = append(errs, fieldErr{i, e})
		}
	}
	if seen == 0 {
		return m, Errorf(CodeFormat, "empty frame")
	}
	return m, settle(m, errs)
}

// FrameKind says what FrameReader.ReadFrame found.
type FrameKind uint8

// Kinds of items in a framed byte stream.
const (
	FrameData  FrameKind = iota + 1 // a frame; Payload holds its payload
	FrameACK                        // an ACK byte outside a frame
	FrameNAK                        // a NAK byte outside a frame
	FrameNoise                      // any other byte outside a frame; ignored by receivers
)

// Frame is one item of a framed byte stream.
type Frame struct {
	Kind    FrameKind
	Payload []byte // FrameData only; valid until the next ReadFrame
}

// FrameReader reads the legacy framed encoding: frames, and ACK/NAK bytes
// between them. An STX inside a frame abandons the partial frame and
// starts a new one (resynchronisation).
type FrameReader struct {
	br  *bufio.Reader
	max int
	buf []byte
}

// NewFrameReader returns a reader of frames whose payload is at most max
// bytes; max ≤ 0 means DefaultMaxMessageSize.
func NewFrameReader(br *bufio.Reader, max int) *FrameReader {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	return &FrameReader{br: br, max: max}
}

// ReadFrame reads the next item. For a frame it returns:
//   - ErrBadLRC if the LRC does not match (the receiver answers NAK);
//   - an E_TOO_LARGE *Error for an intact frame over the limit, consumed
//     up to its LRC without storing it (answer ACK, then the ERROR);
//   - io.ErrUnexpectedEOF if the stream ends inside a frame.
func (r *FrameReader) ReadFrame() (Frame, error) {
	c, err := r.br.ReadByte()
	if err != nil {
		return Frame{}, err
	}
	switch c {
	case STX:
		return r.readBody()
	case ACK:
		return Frame{Kind: FrameACK}, nil
	case NAK:
		return Frame{Kind: FrameNAK}, nil
	}
	return Frame{Kind: FrameNoise}, nil
}

// readBody reads from after STX up to and including the LRC byte.
func (r *FrameReader) readBody() (Frame, error) {
	r.buf = r.buf[:0]
	lrc, over := ETX, false
	for {
		chunk, err := r.br.ReadSlice(ETX)
		if i := bytes.LastIndexByte(chunk, STX); i >= 0 {
			r.buf, lrc, over, chunk = r.buf[:0], ETX, false, chunk[i+1:]
		}
		body := chunk
		if err == nil {
			body = chunk[:len(chunk)-1]
		}
		for _, b := range body {
			lrc ^= b
		}
		over = over || len(r.buf)+len(body) > r.max
		if !over {
			r.buf = append(r.buf, body...)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return Frame{}, unexpected(err)
		}
	}
	got, err := r.br.ReadByte()
	if err != nil {
		return Frame{}, unexpected(err)
	}
	if got != lrc {
		return Frame{}, ErrBadLRC
	}
	if over {
		return Frame{Kind: FrameData}, Errorf(CodeTooLarge, "frame payload exceeds %d bytes", r.max)
	}
	return Frame{Kind: FrameData, Payload: r.buf}, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
