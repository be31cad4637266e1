package alipay

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/transform"
)

// envelope is a parsed gateway answer (reference §5).
type envelope struct {
	isSuccess string            // "T", "F" (trimmed)
	gwError   string            // top-level <error>, for is_success=F
	fields    map[string]string // children of response/alipay, raw text
	sign      string
	signType  string
	encoding  string // declared XML encoding, canonical ("" = UTF-8)
}

// parseEnvelope decodes an <alipay> envelope, honouring the declared
// encoding (UTF-8, GBK, GB2312). Any structural problem is a
// *MalformedError.
func parseEnvelope(body []byte) (*envelope, error) {
	env := &envelope{}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		canon, ok := canonicalCharset(label)
		if !ok {
			return nil, fmt.Errorf("unsupported encoding %q", label)
		}
		env.encoding = canon
		if canon == CharsetUTF8 {
			return r, nil
		}
		return transform.NewReader(r, gbk().NewDecoder()), nil
	}
	root, err := nextStart(d)
	if err != nil {
		return nil, malformed("no root element", err)
	}
	if root.Name.Local != "alipay" {
		return nil, malformed(fmt.Sprintf("root element is <%s>, not <alipay>", root.Name.Local), nil)
	}
	if err := env.readRoot(d); err != nil {
		return nil, err
	}
	if err := expectEOF(d); err != nil {
		return nil, err
	}
	if env.isSuccess != "T" && env.isSuccess != "F" {
		return nil, malformed(fmt.Sprintf("is_success is %q, not T or F", env.isSuccess), nil)
	}
	return env, nil
}

func malformed(reason string, err error) error {
	return &MalformedError{Reason: reason, Err: err}
}

// nextStart returns the next start element, skipping prolog tokens.
func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, errors.New("text outside the root element")
			}
		}
	}
}

// expectEOF checks that nothing but whitespace, comments and processing
// instructions follows the root element.
func expectEOF(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return malformed("after the root element", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return malformed("a second root element <"+t.Name.Local+">", nil)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return malformed("text after the root element", nil)
			}
		}
	}
}

// readRoot reads the children of <alipay> up to its end tag.
func (env *envelope) readRoot(d *xml.Decoder) error {
	seen := map[string]bool{}
	for {
		tok, err := d.Token()
		if err != nil {
			return malformed("inside <alipay>", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			name := t.Name.Local
			if seen[name] {
				return malformed("element <"+name+"> repeated", nil)
			}
			seen[name] = true
			if err := env.readChild(d, name); err != nil {
				return err
			}
		}
	}
}

// readChild reads one child of <alipay>.
func (env *envelope) readChild(d *xml.Decoder, name string) error {
	var dst *string
	switch name {
	case "response":
		return env.readResponse(d)
	case "is_success":
		dst = &env.isSuccess
	case "error":
		dst = &env.gwError
	case "sign":
		dst = &env.sign
	case "sign_type":
		dst = &env.signType
	default: // <request> echo and anything unknown: not signed, not used
		if err := d.Skip(); err != nil {
			return malformed("inside <"+name+">", err)
		}
		return nil
	}
	text, err := leafText(d, name)
	if err != nil {
		return err
	}
	*dst = strings.TrimSpace(text)
	return nil
}

// readResponse reads <response><alipay>…</alipay></response>.
func (env *envelope) readResponse(d *xml.Decoder) error {
	inner, err := nextStart(d)
	if err != nil {
		return malformed("inside <response>", err)
	}
	if inner.Name.Local != "alipay" {
		return malformed("<response> holds <"+inner.Name.Local+">, not <alipay>", nil)
	}
	env.fields = map[string]string{}
	if err := env.readFields(d); err != nil {
		return err
	}
	return closeElement(d, "response")
}

// readFields reads the leaf children of response/alipay.
func (env *envelope) readFields(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return malformed("inside <response><alipay>", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			name := t.Name.Local
			if _, dup := env.fields[name]; dup {
				return malformed("field <"+name+"> repeated", nil)
			}
			text, err := leafText(d, name)
			if err != nil {
				return err
			}
			env.fields[name] = text
		}
	}
}

// leafText returns the text of an element that must hold no elements.
func leafText(d *xml.Decoder, name string) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", malformed("inside <"+name+">", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return "", malformed("<"+name+"> holds element <"+t.Name.Local+">", nil)
		case xml.EndElement:
			return b.String(), nil
		}
	}
}

// closeElement consumes whitespace up to the end tag of name.
func closeElement(d *xml.Decoder, name string) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return malformed("inside <"+name+">", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			return malformed("<"+name+"> holds a second element <"+t.Name.Local+">", nil)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return malformed("text inside <"+name+">", nil)
			}
		}
	}
}
