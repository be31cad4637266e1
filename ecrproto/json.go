package ecrproto

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// AppendJSON appends m as one JSON object (no line end) to dst. Fields
// appear in wire order; absent fields are omitted. It returns an *Error
// (E_FIELD) for a value neither encoding can carry.
func AppendJSON(dst []byte, m *Message) ([]byte, error) {
	if err := checkFields(m); err != nil {
		return dst, err
	}
	dst = append(dst, '{')
	first := true
	for i := range fieldTable {
		f := &fieldTable[i]
		v, ok := f.text(m)
		if !ok {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, f.name)
		dst = append(dst, ':')
		if f.num != nil {
			dst = append(dst, v...)
		} else {
			dst = appendJSONString(dst, v)
		}
	}
	return append(dst, '}'), nil
}

// MarshalJSON implements json.Marshaler with the wire shape of AppendJSON.
func (m *Message) MarshalJSON() ([]byte, error) { return AppendJSON(nil, m) }

// UnmarshalJSON implements json.Unmarshaler with the strict rules of
// DecodeJSON. On error m holds the fields decoded so far.
func (m *Message) UnmarshalJSON(data []byte) error {
	d, err := DecodeJSON(data)
	*m = *d
	return err
}

// DecodeJSON decodes one JSON object into a Message. The rules:
//   - the input is valid UTF-8 holding exactly one JSON object;
//   - amount and amount_cny are JSON integers ≥ 0 written as digits
//     (12.5, 1e3, "1250" and -5 are refused); every other field is a JSON
//     string; null is the same as absent;
//   - a field may appear once; unknown keys are ignored (forward
//     compatibility); keys are case-sensitive;
//   - in a request, fields its type does not use (RequestFields) are
//     ignored like unknown keys: not checked, left empty.
//
// Errors are *Error (E_FORMAT or E_FIELD). The returned Message is never
// nil: on a field error it holds the other fields (so the id can be
// echoed).
func DecodeJSON(data []byte) (*Message, error) {
	m := &Message{}
	if !utf8.Valid(data) {
		return m, Errorf(CodeFormat, "not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return m, Errorf(CodeFormat, "not a JSON object")
	}
	fieldError, err := decodeMembers(dec, m)
	if err != nil {
		return m, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return m, Errorf(CodeFormat, "data after the JSON object")
	}
	if fieldError != nil {
		return m, fieldError
	}
	return m, nil
}

// decodeMembers decodes the object's members up to and including its
// closing brace. It returns the first field error separately from a
// syntax error, so that all well-formed fields are still decoded.
func decodeMembers(dec *json.Decoder, m *Message) (fieldError, err error) {
	var (
		seen uint32
		errs []fieldErr
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, Errorf(CodeFormat, "malformed JSON")
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, Errorf(CodeFormat, "malformed JSON")
		}
		i, f := lookupField(key)
		if f == nil {
			continue
		}
		if seen&(1<<i) != 0 {
			errs = append(errs, fieldErr{i, FieldError(key, "appears more than once")})
			continue
		}
		seen |= 1 << i
		if e := f.setJSON(m, raw); e != nil {
			errs = append(errs, fieldErr{i, e})
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, Errorf(CodeFormat, "malformed JSON")
	}
	return settle(m, errs), nil
}

// setJSON sets the field from a raw JSON value.
func (f *fieldSpec) setJSON(m *Message, raw []byte) *Error {
	if string(raw) == "null" {
		return nil
	}
	if f.num != nil {
		if raw[0] == '"' {
			return FieldError(f.name, "must be a JSON integer, not a string")
		}
		n, err := parseDigits(f.name, string(raw))
		if err != nil {
			return err
		}
		*f.num(m) = &n
		return nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return FieldError(f.name, "must be a JSON string")
	}
	return f.setText(m, s)
}

// appendJSONString appends s as a JSON string. Only '"', '\\' and control
// characters are escaped, so text stays readable in traces.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// JSONReader reads JSON-lines messages: one JSON object per line, lines
// ending in LF (a CR before it is dropped). Blank lines are skipped.
type JSONReader struct {
	br  *bufio.Reader
	max int
}

// NewJSONReader returns a reader of messages up to max bytes (the line
// without its line end); max ≤ 0 means DefaultMaxMessageSize.
func NewJSONReader(br *bufio.Reader, max int) *JSONReader {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	return &JSONReader{br: br, max: max}
}

// ReadMessage reads the next message. A line that is too long is
// discarded up to its newline and reported as an E_TOO_LARGE *Error; a
// line that does not decode is reported as an *Error with the partly
// decoded message. Both leave the reader at the next line. Other errors
// (io.EOF, io.ErrUnexpectedEOF, timeouts) come from the underlying reader.
func (r *JSONReader) ReadMessage() (*Message, error) {
	for {
		m, err := r.readItem()
		if m != nil || err != nil {
			return m, err
		}
	}
}

// readItem reads one line: (nil, nil) for a blank line.
func (r *JSONReader) readItem() (*Message, error) {
	line, err := r.readLine()
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, nil
	}
	return DecodeJSON(line)
}

// readLine returns the next line without its line end.
func (r *JSONReader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(line)+len(chunk) > r.max+2 { // room for CR LF
			if err != nil {
				r.discardLine(err)
			}
			return nil, Errorf(CodeTooLarge, "message exceeds %d bytes", r.max)
		}
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	if len(line) > r.max {
		return nil, Errorf(CodeTooLarge, "message exceeds %d bytes", r.max)
	}
	return line, nil
}

// discardLine skips to just after the next LF, given the error of the
// ReadSlice that returned the oversize chunk.
func (r *JSONReader) discardLine(err error) {
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = r.br.ReadSlice('\n')
	}
}
