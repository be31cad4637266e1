package sandbox

import (
	"bytes"
	"context"
	"encoding/xml"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
)

// reply is what a service answers inside an is_success=T envelope.
type reply struct {
	fields      map[string]string // the children of response/alipay
	drop        bool              // close the connection without answering
	corruptSign bool              // answer with a signature that does not verify
	delay       time.Duration     // hold the answer back this long
}

// xmlHeader opens every answer; the sandbox always answers in UTF-8.
const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// writeRejection answers is_success=F with code, unsigned (reference §5.2).
func writeRejection(w http.ResponseWriter, rej *rejection) {
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.Header().Set("X-Sandbox-Reason", sanitizeHeader(rej.reason))
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString("<alipay><is_success>F</is_success>")
	writeElem(&b, "error", rej.code)
	b.WriteString("</alipay>")
	_, _ = w.Write(b.Bytes())
}

// writeReply delivers rep: after its delay, by dropping the connection, or
// as a signed is_success=T envelope echoing the request.
func (s *Server) writeReply(w http.ResponseWriter, r *http.Request, g *gatewayRequest, rep reply) {
	if rep.delay > 0 && !sleep(r.Context(), rep.delay) {
		return // the client gave up; nobody is listening
	}
	if rep.drop {
		dropConn(w)
		return
	}
	fields := make(map[string]string, len(rep.fields))
	for k, v := range rep.fields {
		fields[k] = xmlSafe(v)
	}
	sig, err := s.signers[g.signType].Sign([]byte(alipay.PreSignString(fields)))
	if err != nil {
		s.cfg.Logger.Error("sandbox: sign answer", "err", err)
		http.Error(w, "sandbox: cannot sign the answer", http.StatusInternalServerError)
		return
	}
	if rep.corruptSign {
		sig = corrupt(sig)
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	_, _ = w.Write(envelope(g.params, fields, sig, string(g.signType)))
}

// envelope renders the is_success=T document of reference §5.1, every
// element list in name order.
func envelope(params, fields map[string]string, sig, signType string) []byte {
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString("<alipay><is_success>T</is_success><request>")
	for _, k := range slices.Sorted(maps.Keys(params)) {
		b.WriteString(`<param name="`)
		_ = xml.EscapeText(&b, []byte(k))
		b.WriteString(`">`)
		_ = xml.EscapeText(&b, []byte(params[k]))
		b.WriteString("</param>")
	}
	b.WriteString("</request><response><alipay>")
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		writeElem(&b, k, fields[k])
	}
	b.WriteString("</alipay></response>")
	writeElem(&b, "sign", sig)
	writeElem(&b, "sign_type", signType)
	b.WriteString("</alipay>")
	return b.Bytes()
}

// writeElem writes <name>value</name>; names are the sandbox's own, never
// taken from the request.
func writeElem(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(value))
	b.WriteString("</" + name + ">")
}

// xmlSafe replaces the characters XML 1.0 cannot carry with U+FFFD, so the
// signed text is exactly the text a client parses back.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

// sanitizeHeader keeps a header value to printable ASCII.
func sanitizeHeader(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// corrupt changes the first character of a signature so it no longer
// verifies (MD5 hex is compared case-insensitively, RSA is Base64).
func corrupt(sig string) string {
	if sig == "" {
		return "0"
	}
	c := "A"
	if sig[0] == 'a' || sig[0] == 'A' {
		c = "B"
	}
	return c + sig[1:]
}

// dropConn closes the client's connection without writing anything. When
// the writer cannot be hijacked (HTTP/2, a recorder), it aborts the handler
// the standard way, which also closes or resets the stream.
func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
