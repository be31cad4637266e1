package daemon_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// This file records exchanges with the real daemon (on the sandbox
// gateway) for the generated examples of docs/ecr-protocol.md section 9,
// and renders them. TestProtocolDocExamples runs them.

const (
	protocolDoc = "../docs/ecr-protocol.md"
	docBegin    = "<!-- generated: begin — TILLBRIDGE_UPDATE_DOCS=1 go test ./daemon -run TestProtocolDocExamples rewrites this block from a run of the daemon -->"
	docEnd      = "<!-- generated: end -->"
	// updateDocsEnv set to 1 rewrites the block instead of failing.
	updateDocsEnv = "TILLBRIDGE_UPDATE_DOCS"
)

// Fixed stand-ins for the values that change from run to run.
const (
	docTransID = "2026112522001412345678901234"
	docPaidAt  = "2026-11-25T06:03:07Z"
	docTime    = "2026-11-25 14:03:07"
)

// docLine is one message of an exchange as it went over the wire.
type docLine struct {
	who   string // the peer: ECR, or EFT-POS for a second connection
	sent  bool   // sent by the peer (→), else by the daemon (←)
	text  string // the JSON line, normalised
	shown string // what to show instead of text (a huge line), if set
	msg   *ecrproto.Message
}

// docExchange is one titled example: a note and the lines in order.
type docExchange struct {
	title string
	note  string
	lines []docLine
	// framed: show the lines as frames too.
	framed bool
}

// docRecorder collects exchanges in document order.
type docRecorder struct {
	t    *testing.T
	list []*docExchange
	cur  *docExchange
}

// begin starts the next exchange.
func (r *docRecorder) begin(title, note string) *docExchange {
	ex := &docExchange{title: title, note: note}
	r.list = append(r.list, ex)
	r.cur = ex
	return ex
}

// beginFramed starts the next exchange, shown as frames too.
func (r *docRecorder) beginFramed(title, note string) *docExchange {
	ex := &docExchange{title: title, note: note, framed: true}
	r.list = append(r.list, ex)
	r.cur = ex
	return ex
}

// docPeer is a raw JSON-lines connection to the daemon whose traffic goes
// into the current exchange of a recorder.
type docPeer struct {
	t   *testing.T
	rec *docRecorder
	who string
	c   net.Conn
	br  *bufio.Reader
}

func dialDocPeer(t *testing.T, rec *docRecorder, addr, who string) *docPeer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &docPeer{t: t, rec: rec, who: who, c: c, br: bufio.NewReaderSize(c, 1<<17)}
}

// send writes a JSON line and records it.
func (p *docPeer) send(line string) { p.sendShown(line, "") }

// sendShown writes a line and records it, shown as shown when not empty.
func (p *docPeer) sendShown(line, shown string) {
	p.t.Helper()
	p.c.SetWriteDeadline(time.Now().Add(testBound))
	if _, err := p.c.Write([]byte(line + "\n")); err != nil {
		p.t.Fatalf("write: %v", err)
	}
	m, err := ecrproto.DecodeJSON([]byte(line))
	if err != nil && p.rec.cur.framed {
		p.t.Fatalf("%s: an exchange shown framed has undecodable %q", p.rec.cur.title, line)
	}
	p.rec.cur.lines = append(p.rec.cur.lines, docLine{who: p.who, sent: true, text: line, shown: shown, msg: m})
}

// next reads the daemon's next line and records it.
func (p *docPeer) next() *ecrproto.Message {
	p.t.Helper()
	m, l := p.read()
	p.record(l)
	return m
}

// record adds l to the current exchange, dropping an EVENT that repeats
// the one before it (how often a step is reported depends on timing).
func (p *docPeer) record(l docLine) {
	ex := p.rec.cur
	for i := len(ex.lines) - 1; i >= 0 && l.msg.Type == ecrproto.TypeEvent; i-- {
		prev := ex.lines[i]
		if prev.who != l.who || prev.sent || prev.msg.ID != l.msg.ID {
			continue
		}
		if prev.text == l.text {
			return
		}
		break
	}
	ex.lines = append(ex.lines, l)
}

// read reads the daemon's next line, checks it is exactly what the
// encoder writes for the message it holds, and returns it with its
// normalised record.
func (p *docPeer) read() (*ecrproto.Message, docLine) {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(testBound))
	line, err := p.br.ReadBytes('\n')
	if err != nil {
		p.t.Fatalf("%s: read: %v (got %q)", p.who, err, line)
	}
	line = line[:len(line)-1]
	m, err := ecrproto.DecodeJSON(line)
	if err != nil {
		p.t.Fatalf("daemon sent undecodable %q: %v", line, err)
	}
	if again, _ := ecrproto.AppendJSON(nil, m); !bytes.Equal(again, line) {
		p.t.Fatalf("daemon line %q is not the encoder's %q", line, again)
	}
	n := normalise(m.Clone())
	text, _ := ecrproto.AppendJSON(nil, n)
	return m, docLine{who: p.who, text: string(text), msg: n}
}

// final reads until the final answer for id (an ERROR without id counts
// too: a refusal of input with no id) and returns it.
func (p *docPeer) final(id string) *ecrproto.Message {
	p.t.Helper()
	for {
		m := p.next()
		if m.IsFinal() && (m.ID == id || m.ID == "") {
			return m
		}
	}
}

// finals reads until every id in ids had its final answer, and records
// what it read grouped by id in the order of ids (requests running at
// once answer in an order that depends on timing). It returns the final
// answers in the order of ids.
func (p *docPeer) finals(ids ...string) []*ecrproto.Message {
	p.t.Helper()
	byID := map[string][]docLine{}
	done := map[string]*ecrproto.Message{}
	for len(done) < len(ids) {
		m, l := p.read()
		byID[m.ID] = append(byID[m.ID], l)
		if m.IsFinal() {
			done[m.ID] = m
		}
	}
	out := make([]*ecrproto.Message, 0, len(ids))
	for _, id := range ids {
		for _, l := range byID[id] {
			p.record(l)
		}
		out = append(out, done[id])
	}
	return out
}

// until reads until a message for which ok holds and returns it.
func (p *docPeer) until(ok func(*ecrproto.Message) bool) *ecrproto.Message {
	p.t.Helper()
	for {
		if m := p.next(); ok(m) {
			return m
		}
	}
}

// closed checks that the daemon closed the connection.
func (p *docPeer) closed() {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(testBound))
	if b, err := p.br.ReadByte(); err == nil {
		p.t.Fatalf("connection still open: read %q", b)
	}
}

var (
	receiptTime = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?`)
	transIDs    = regexp.MustCompile(`20\d{26}`)
	partnerIDs  = regexp.MustCompile(`T[BR][0-9A-Z]{8,62}`)
	buyerLogins = regexp.MustCompile(`\d{3}\*{4}\d{4}`)
)

// docBuyer stands in for the buyer's masked Alipay login.
const docBuyer = "152****1234"

// normalise replaces the values that change from run to run (Alipay ids,
// times, partner ids) by fixed ones.
func normalise(m *ecrproto.Message) *ecrproto.Message {
	if m.AlipayTransID != "" {
		m.AlipayTransID = docTransID
	}
	if m.PaidAt != "" {
		m.PaidAt = docPaidAt
	}
	if m.Type == ecrproto.TypeResult && m.Buyer != "" {
		m.Buyer = docBuyer
	}
	if m.Receipt != "" {
		s := transIDs.ReplaceAllString(m.Receipt, docTransID)
		s = receiptTime.ReplaceAllStringFunc(s, func(v string) string { return docTime[:len(v)] })
		s = buyerLogins.ReplaceAllString(s, docBuyer)
		m.Receipt = partnerIDs.ReplaceAllStringFunc(s, func(v string) string { return v[:2] + strings.Repeat("0", len(v)-2) })
	}
	return m
}

// render writes the generated block.
func renderDoc(t *testing.T, list []*docExchange, framedPing []docWire) string {
	var b strings.Builder
	b.WriteString(docBegin + "\n\n")
	renderFramedPing(&b, framedPing)
	for _, ex := range list {
		fmt.Fprintf(&b, "### %s\n\n", ex.title)
		if ex.note != "" {
			fmt.Fprintf(&b, "%s\n\n", ex.note)
		}
		b.WriteString("```text\n")
		for _, l := range ex.lines {
			text := l.text
			if l.shown != "" {
				text = l.shown
			}
			fmt.Fprintf(&b, "%s %s %s\n", l.who, arrow(l.sent), text)
		}
		b.WriteString("```\n\n")
		if !ex.framed {
			continue
		}
		b.WriteString("Framed:\n\n```text\n")
		for _, l := range ex.lines {
			f, err := ecrproto.EncodeFrame(l.msg)
			if err != nil {
				t.Fatalf("%s: %v", ex.title, err)
			}
			fmt.Fprintf(&b, "%s %s %s\n", l.who, arrow(l.sent), readableFrame(f))
		}
		b.WriteString("```\n\n")
	}
	b.WriteString(docEnd)
	return b.String()
}

func arrow(sent bool) string {
	if sent {
		return "→"
	}
	return "←"
}

// docWire is one write of the complete framed exchange, as bytes.
type docWire struct {
	sent  bool
	bytes []byte
}

// renderFramedPing shows a framed PING exchange byte by byte.
func renderFramedPing(b *strings.Builder, wire []docWire) {
	b.WriteString("### A complete framed exchange, byte by byte\n\n```text\n")
	for _, w := range wire {
		who := "daemon → ECR  "
		if w.sent {
			who = "ECR → daemon  "
		}
		fmt.Fprintf(b, "%s %s\n%s", who, readableFrame(w.bytes), hexDump(w.bytes))
	}
	b.WriteString("```\n\n")
	ping := wire[0].bytes
	payload := ping[1 : len(ping)-2]
	fmt.Fprintf(b, "The LRC of the PING frame is the XOR of its %d payload bytes and ETX: 0x%02X.\n\n", len(payload), ecrproto.LRC(payload))
}

// readableFrame shows frame bytes with control bytes named:
// <STX>type=PING<FS>…<ETX><LRC=1B>; a lone ACK or NAK as <ACK>, <NAK>.
func readableFrame(f []byte) string {
	if len(f) == 1 {
		switch f[0] {
		case ecrproto.ACK:
			return "<ACK>"
		case ecrproto.NAK:
			return "<NAK>"
		}
	}
	var b strings.Builder
	names := map[byte]string{0x02: "<STX>", 0x03: "<ETX>", 0x1C: "<FS>", '\n': "<LF>", '\r': "<CR>", '\t': "<TAB>"}
	for i, c := range f {
		if i == len(f)-1 && len(f) > 2 && f[i-1] == 0x03 {
			fmt.Fprintf(&b, "<LRC=%02X>", c)
			break
		}
		if n, ok := names[c]; ok {
			b.WriteString(n)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// hexDump shows bytes in hex, 24 per line.
func hexDump(f []byte) string {
	var b strings.Builder
	for i := 0; i < len(f); i += 24 {
		line := f[i:min(i+24, len(f))]
		for j, c := range line {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%02X", c)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// checkDoc compares the generated block with the document, or rewrites
// it when updateDocsEnv is 1.
func checkDoc(t *testing.T, want string) {
	t.Helper()
	doc, err := os.ReadFile(protocolDoc)
	if err != nil {
		t.Fatal(err)
	}
	start, end := bytes.Index(doc, []byte(docBegin)), bytes.Index(doc, []byte(docEnd))
	if start < 0 || end < start {
		t.Fatalf("%s lacks the markers %q … %q", protocolDoc, docBegin, docEnd)
	}
	got := string(doc[start : end+len(docEnd)])
	if got == want {
		return
	}
	if os.Getenv(updateDocsEnv) != "1" {
		t.Fatalf("%s section 9 differs from what the daemon sends (first difference near %q); "+
			"run %s=1 go test ./daemon -run TestProtocolDocExamples", protocolDoc, firstDiff(got, want), updateDocsEnv)
	}
	out := append(append(append([]byte{}, doc[:start]...), want...), doc[end+len(docEnd):]...)
	if err := os.WriteFile(protocolDoc, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstDiff returns the text of want around its first difference from got.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return want[max(0, i-40):min(len(want), i+80)]
}
