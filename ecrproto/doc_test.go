package ecrproto_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

var update = flag.Bool("update", false, "rewrite the generated examples in docs/ecr-protocol.md")

const (
	docPath    = "../docs/ecr-protocol.md"
	beginMark  = "<!-- BEGIN GENERATED EXAMPLES: edit ecrproto/doc_test.go, then run go test ./ecrproto -run TestDocExamples -update -->"
	endMark    = "<!-- END GENERATED EXAMPLES -->"
	exTransID  = "2026112522001412345678901234"
	exReceipt  = "CITY ZOO - TICKETS\nLane 1  Ref R000123\nAlipay  HKD 12.50\nTrans 2026112522001412345678901234\n"
	exBuyer    = "152****1234"
	exPaidAt   = "2026-11-25T14:03:07+08:00"
	exCustomer = "281234567890123400"
)

type docExample struct {
	title string
	m     *ecrproto.Message
}

// docSections lists an example of every message, in the order of the
// protocol document.
func docSections() []struct {
	heading string
	list    []docExample
} {
	type ex = docExample
	m := func(x ecrproto.Message) *ecrproto.Message { return &x }
	amt := ecrproto.Int
	return []struct {
		heading string
		list    []docExample
	}{
		{"Requests", []ex{
			{"HELLO (local)", m(ecrproto.Message{Type: "HELLO", ID: "1", Version: "1"})},
			{"HELLO (remote, with the shared key)", m(ecrproto.Message{Type: "HELLO", ID: "1", Version: "1", Key: "till-key-42"})},
			{"SALE with the customer's code", m(ecrproto.Message{Type: "SALE", ID: "2", Lane: "1", Ref: "R000123", Amount: amt(1250), Currency: "HKD", Subject: "Zoo ticket x1", Barcode: exCustomer})},
			{"SALE waiting for a scan", m(ecrproto.Message{Type: "SALE", ID: "2", Lane: "1", Ref: "R000123", Amount: amt(1250), Currency: "HKD"})},
			{"STATUS of a sale", m(ecrproto.Message{Type: "STATUS", ID: "3", Lane: "1", Ref: "R000123"})},
			{"STATUS of the lane's last sale", m(ecrproto.Message{Type: "STATUS", ID: "3", Lane: "1"})},
			{"STATUS of a refund (ref names the refund)", m(ecrproto.Message{Type: "STATUS", ID: "3", Lane: "1", Ref: "F000007"})},
			{"CANCEL", m(ecrproto.Message{Type: "CANCEL", ID: "4", Lane: "1", Ref: "R000123"})},
			{"REFUND", m(ecrproto.Message{Type: "REFUND", ID: "5", Lane: "1", Ref: "R000123", RefundRef: "F000007", Amount: amt(500), Currency: "HKD"})},
			{"SCAN (from an EFT POS device)", m(ecrproto.Message{Type: "SCAN", ID: "6", Lane: "1", Barcode: exCustomer})},
			{"ABORT", m(ecrproto.Message{Type: "ABORT", ID: "7", Lane: "1", Ref: "R000123"})},
			{"PRINT text", m(ecrproto.Message{Type: "PRINT", ID: "8", Lane: "1", Receipt: "Thank you!\nSee you soon.\n"})},
			{"PRINT a copy of a sale's receipt", m(ecrproto.Message{Type: "PRINT", ID: "8", Lane: "1", Ref: "R000123"})},
			{"DEVICES", m(ecrproto.Message{Type: "DEVICES", ID: "9", Lane: "1"})},
			{"PING", m(ecrproto.Message{Type: "PING", ID: "10"})},
		}},
		{"EVENT", []ex{
			{"WAIT_SCAN", m(ecrproto.Message{Type: "EVENT", ID: "2", Lane: "1", Ref: "R000123", Event: "WAIT_SCAN", Message: "Scan the customer's Alipay code"})},
			{"SCANNED", m(ecrproto.Message{Type: "EVENT", ID: "2", Lane: "1", Ref: "R000123", Event: "SCANNED", Buyer: ecrproto.MaskCode(exCustomer), Message: "payment code read"})},
			{"SENT", m(ecrproto.Message{Type: "EVENT", ID: "2", Lane: "1", Ref: "R000123", Event: "SENT"})},
			{"WAIT_BUYER_CONFIRM", m(ecrproto.Message{Type: "EVENT", ID: "2", Lane: "1", Ref: "R000123", Event: "WAIT_BUYER_CONFIRM", Message: "Customer must confirm on the phone"})},
			{"CANCELLING", m(ecrproto.Message{Type: "EVENT", ID: "2", Lane: "1", Ref: "R000123", Event: "CANCELLING"})},
			{"PRINTING", m(ecrproto.Message{Type: "EVENT", ID: "2", Lane: "1", Ref: "R000123", Event: "PRINTING"})},
			{"PRINTER_ERROR", m(ecrproto.Message{Type: "EVENT", ID: "2", Lane: "1", Ref: "R000123", Event: "PRINTER_ERROR", Message: "Printer out of paper"})},
		}},
		{"RESULT", []ex{
			{"HELLO answer", m(ecrproto.Message{Type: "RESULT", ID: "1", Status: "OK", Message: "ready", Version: "1"})},
			{"PING answer", m(ecrproto.Message{Type: "RESULT", ID: "10", Status: "OK", Message: "ready"})},
			{"SALE APPROVED", m(ecrproto.Message{Type: "RESULT", ID: "2", Lane: "1", Ref: "R000123", Amount: amt(1250), Currency: "HKD", Status: "APPROVED", AlipayTransID: exTransID, Buyer: exBuyer, AmountCNY: amt(1147), ExchangeRate: "0.91760000", PaidAt: exPaidAt, Receipt: exReceipt})},
			{"SALE DECLINED", m(ecrproto.Message{Type: "RESULT", ID: "2", Lane: "1", Ref: "R000123", Amount: amt(1250), Currency: "HKD", Status: "DECLINED", Reason: "BUYER_BALANCE_NOT_ENOUGH", Message: "Insufficient balance"})},
			{"SALE DECLINED after ABORT before the pay was sent", m(ecrproto.Message{Type: "RESULT", ID: "2", Lane: "1", Ref: "R000123", Amount: amt(1250), Currency: "HKD", Status: "DECLINED", Reason: "VOIDED", Message: "stopped before the payment was sent; nothing was charged"})},
			{"SALE CANCELLED", m(ecrproto.Message{Type: "RESULT", ID: "2", Lane: "1", Ref: "R000123", Amount: amt(1250), Currency: "HKD", Status: "CANCELLED", Reason: "PAY_DEADLINE", Message: "no confirmation in time; the payment was cancelled"})},
			{"SALE MANUAL", m(ecrproto.Message{Type: "RESULT", ID: "2", Lane: "1", Ref: "R000123", Amount: amt(1250), Currency: "HKD", Status: "MANUAL", Reason: "CANCEL_REFUSED", Message: "Outcome unclear: do not hand over; call support"})},
			{"STATUS PENDING", m(ecrproto.Message{Type: "RESULT", ID: "3", Lane: "1", Ref: "R000123", Amount: amt(1250), Currency: "HKD", Status: "PENDING", Reason: "IN_PROGRESS", Message: "not final yet; ask STATUS again"})},
			{"REFUND REFUNDED", m(ecrproto.Message{Type: "RESULT", ID: "5", Lane: "1", Ref: "R000123", RefundRef: "F000007", Amount: amt(500), Currency: "HKD", Status: "REFUNDED", AlipayTransID: exTransID, Message: "refunded"})},
			{"ABORT accepted", m(ecrproto.Message{Type: "RESULT", ID: "7", Lane: "1", Ref: "R000123", Status: "OK", Message: "cancel requested; the sale's RESULT follows on its own request"})},
			{"SCAN accepted", m(ecrproto.Message{Type: "RESULT", ID: "6", Lane: "1", Status: "OK", Message: "code accepted"})},
			{"PRINT done", m(ecrproto.Message{Type: "RESULT", ID: "8", Lane: "1", Status: "OK", Message: "printed"})},
			{"DEVICES answer", m(ecrproto.Message{Type: "RESULT", ID: "9", Lane: "1", Status: "OK", Message: "lane 1 printer front: OK; lane 1 scanner counter: OK"})},
		}},
		{"ERROR", errorExamples()},
	}
}

func errorExamples() []docExample {
	req := &ecrproto.Message{ID: "2", Lane: "1", Ref: "R000123"}
	errs := []*ecrproto.Error{
		ecrproto.Errorf(ecrproto.CodeFormat, "not a JSON object"),
		ecrproto.Errorf(ecrproto.CodeTooLarge, "message exceeds 65536 bytes"),
		ecrproto.Errorf(ecrproto.CodeType, `unknown message type "PAY"`),
		ecrproto.FieldError("amount", "must be a non-negative integer in minor units (digits only)"),
		ecrproto.Errorf(ecrproto.CodeRefConflict, "ref R000123 was used with other fields"),
		ecrproto.Errorf(ecrproto.CodeLaneBusy, "lane 1 has sale R000122 in flight"),
		ecrproto.Errorf(ecrproto.CodeNotFound, "no sale R000123 on lane 1"),
		ecrproto.Errorf(ecrproto.CodeUnavailable, "starting up; try again shortly"),
		ecrproto.Errorf(ecrproto.CodeInternal, "internal error"),
		ecrproto.Errorf(ecrproto.CodeAuth, "send HELLO with the shared key first"),
	}
	var list []docExample
	for _, e := range errs {
		list = append(list, docExample{e.Code, e.Reply(req)})
	}
	list[0].m = errs[0].Reply(nil) // undecodable input has no id to echo
	list[1].m = errs[1].Reply(nil)
	return list
}

// renderExamples renders the generated section of the document.
func renderExamples(t *testing.T) string {
	var b strings.Builder
	b.WriteString(beginMark + "\n\n")
	renderExchange(t, &b)
	for _, sec := range docSections() {
		fmt.Fprintf(&b, "### %s\n\n", sec.heading)
		for _, ex := range sec.list {
			if err := ex.m.Validate(); err != nil {
				t.Fatalf("example %q is not valid: %v", ex.title, err)
			}
			renderOne(t, &b, ex)
		}
	}
	b.WriteString(endMark)
	return b.String()
}

func renderOne(t *testing.T, b *strings.Builder, ex docExample) {
	j, err := ecrproto.AppendJSON(nil, ex.m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ecrproto.EncodeFrame(ex.m)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(b, "#### %s\n\n```json\n%s\n```\n\n```text\n%s\n%s```\n\n", ex.title, j, readable(f), hexDump(f))
}

// renderExchange shows one complete framed exchange, byte by byte.
func renderExchange(t *testing.T, b *strings.Builder) {
	ping, _ := ecrproto.EncodeFrame(&ecrproto.Message{Type: "PING", ID: "10"})
	answer, _ := ecrproto.EncodeFrame(&ecrproto.Message{Type: "RESULT", ID: "10", Status: "OK", Message: "ready"})
	payload := ping[1 : len(ping)-2]
	b.WriteString("### A complete framed exchange\n\n```text\n")
	fmt.Fprintf(b, "ECR → daemon   %s\n%s", readable(ping), hexDump(ping))
	fmt.Fprintf(b, "daemon → ECR   <ACK>\n06\n")
	fmt.Fprintf(b, "daemon → ECR   %s\n%s", readable(answer), hexDump(answer))
	fmt.Fprintf(b, "ECR → daemon   <ACK>\n06\n```\n\n")
	fmt.Fprintf(b, "The LRC of the PING frame is the XOR of its %d payload bytes and ETX: 0x%02X.\n"+
		"In JSON lines the same exchange is:\n\n```text\n", len(payload), ecrproto.LRC(payload))
	for _, m := range []*ecrproto.Message{{Type: "PING", ID: "10"}, {Type: "RESULT", ID: "10", Status: "OK", Message: "ready"}} {
		j, err := ecrproto.AppendJSON(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(b, "%s\\n\n", j)
	}
	b.WriteString("```\n\n")
}

// readable shows a frame with control bytes named: <STX>type=PING<FS>…
func readable(f []byte) string {
	var b strings.Builder
	names := map[byte]string{0x02: "<STX>", 0x03: "<ETX>", 0x1C: "<FS>", '\n': "<LF>", '\r': "<CR>", '\t': "<TAB>"}
	for i, c := range f {
		if i == len(f)-1 {
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

func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	start, end := bytes.Index(doc, []byte(beginMark)), bytes.Index(doc, []byte(endMark))
	if start < 0 || end < start {
		t.Fatalf("%s lacks the generated-examples markers", docPath)
	}
	want := renderExamples(t)
	got := string(doc[start : end+len(endMark)])
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("%s examples are stale: run go test ./ecrproto -run TestDocExamples -update", docPath)
	}
	out := append(append(append([]byte{}, doc[:start]...), want...), doc[end+len(endMark):]...)
	if err := os.WriteFile(docPath, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDocListsEveryCode keeps the tables of the document complete.
func TestDocListsEveryCode(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{
		ecrproto.CodeFormat, ecrproto.CodeTooLarge, ecrproto.CodeType, ecrproto.CodeField, ecrproto.CodeRefConflict,
		ecrproto.CodeLaneBusy, ecrproto.CodeNotFound, ecrproto.CodeUnavailable, ecrproto.CodeInternal, ecrproto.CodeAuth,
		ecrproto.StatusApproved, ecrproto.StatusDeclined, ecrproto.StatusCancelled, ecrproto.StatusRefunded,
		ecrproto.StatusPending, ecrproto.StatusManual, ecrproto.StatusOK,
		ecrproto.EventWaitScan, ecrproto.EventScanned, ecrproto.EventSent, ecrproto.EventWaitBuyerConfirm,
		ecrproto.EventCancelling, ecrproto.EventPrinting, ecrproto.EventPrinterError,
	}
	for _, n := range names {
		if !bytes.Contains(doc, []byte("| `"+n+"`")) {
			t.Errorf("%s has no table row for %s", docPath, n)
		}
	}
}
