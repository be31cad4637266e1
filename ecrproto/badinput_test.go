package ecrproto_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// TestBadInput sends every kind of bad input the protocol must survive,
// after a valid first request (before one, undecodable input closes the
// connection: TestFirstLine). Each gets its answer, the connection stays
// usable, the server stays up, and a sale running on another connection is
// not disturbed.
func TestBadInput(t *testing.T) {
	release, started := make(gate), make(chan struct{})
	srv := newServer(t, ecrproto.ServerOptions{IdleTimeout: idle, Handler: ecrproto.HandlerFunc(
		func(ctx context.Context, req *ecrproto.Message, w ecrproto.ResponseWriter) {
			if req.Type == "SALE" && req.Lane == "9" {
				close(started)
				release.wait(ctx)
			}
			saleHandler(ctx, req, w)
		})})
	addr := serveTCP(t, srv)
	other := dial(t, "tcp", addr, nil)
	otherSale := make(chan *ecrproto.Message, 1)
	go func() { r, _ := other.Sale(ctxT(t), "9", "OTHER", 500, "HKD", ""); otherSale <- r }()
	waitStarted(t, started, otherSale)

	for _, tt := range jsonBadInput() {
		t.Run("json/"+tt.name, func(t *testing.T) {
			p := dialRaw(t, "tcp", addr)
			p.write([]byte(`{"type":"PING","id":"first"}` + "\n"))
			wantResult(t, p.readJSON(), ecrproto.StatusOK)
			p.write([]byte(tt.send))
			wantError(t, p.readJSON(), tt.code, tt.field)
			p.write([]byte(`{"type":"PING","id":"after"}` + "\n"))
			wantResult(t, p.readJSON(), ecrproto.StatusOK)
		})
	}
	for _, tt := range framedBadInput() {
		t.Run("framed/"+tt.name, func(t *testing.T) {
			p := dialRaw(t, "tcp", addr)
			p.writeFrame(&ecrproto.Message{Type: "PING", ID: "first"})
			p.expectControl(ecrproto.FrameACK)
			wantResult(t, p.readFrameMsg(), ecrproto.StatusOK)
			p.write(tt.send)
			if tt.code == "NAK" {
				p.expectControl(ecrproto.FrameNAK)
			} else {
				p.expectControl(ecrproto.FrameACK)
				wantError(t, p.readFrameMsg(), tt.code, tt.field)
			}
			p.writeFrame(&ecrproto.Message{Type: "PING", ID: "after"})
			p.expectControl(ecrproto.FrameACK)
			wantResult(t, p.readFrameMsg(), ecrproto.StatusOK)
		})
	}
	t.Run("silent client", func(t *testing.T) {
		dialRaw(t, "tcp", addr).expectClosed()
	})

	close(release)
	r := <-otherSale
	wantResult(t, r, ecrproto.StatusApproved)
	if r.Ref != "OTHER" {
		t.Fatalf("other lane's result %+v", r)
	}
	wantResult(t, do(t, dial(t, "tcp", addr, nil), &ecrproto.Message{Type: "PING"}), ecrproto.StatusOK)
}

type badJSON struct{ name, send, code, field string }

func jsonBadInput() []badJSON {
	sale := func(amount string) string {
		return `{"type":"SALE","id":"1","lane":"1","ref":"R1","amount":` + amount + `,"currency":"HKD"}` + "\n"
	}
	return []badJSON{
		{"garbage", "hello world\n", ecrproto.CodeFormat, ""},
		{"binary garbage", "\xff\xfe\x00\x01\n", ecrproto.CodeFormat, ""},
		{"truncated JSON", `{"type":"SALE",` + "\n", ecrproto.CodeFormat, ""},
		{"not an object", `{}` + "[]\n", ecrproto.CodeFormat, ""},
		{"oversize", `{"type":"PING","id":"` + strings.Repeat("x", 70<<10) + `"}` + "\n", ecrproto.CodeTooLarge, ""},
		{"unknown type", `{"type":"PAY","id":"1"}` + "\n", ecrproto.CodeType, ""},
		{"response type", `{"type":"RESULT","id":"1","status":"OK"}` + "\n", ecrproto.CodeType, ""},
		{"missing type", `{"id":"1"}` + "\n", ecrproto.CodeField, "type"},
		{"missing id", `{"type":"PING"}` + "\n", ecrproto.CodeField, "id"},
		{"missing lane", `{"type":"STATUS","id":"1"}` + "\n", ecrproto.CodeField, "lane"},
		{"missing amount", `{"type":"SALE","id":"1","lane":"1","ref":"R1","currency":"HKD"}` + "\n", ecrproto.CodeField, "amount"},
		{"amount fraction", sale("12.5"), ecrproto.CodeField, "amount"},
		{"amount string", sale(`"1250"`), ecrproto.CodeField, "amount"},
		{"amount exponent", sale("1e3"), ecrproto.CodeField, "amount"},
		{"amount negative", sale("-5"), ecrproto.CodeField, "amount"},
		{"amount zero", sale("0"), ecrproto.CodeField, "amount"},
		{"amount null", sale("null"), ecrproto.CodeField, "amount"},
		{"lane as number", `{"type":"STATUS","id":"1","lane":1}` + "\n", ecrproto.CodeField, "lane"},
		{"bad currency", `{"type":"SALE","id":"1","lane":"1","ref":"R1","amount":1,"currency":"hk"}` + "\n", ecrproto.CodeField, "currency"},
		{"control char", `{"type":"PRINT","id":"1","lane":"1","receipt":"a\u0003"}` + "\n", ecrproto.CodeField, "receipt"},
	}
}

type badFrame struct {
	name        string
	send        []byte
	code, field string // code "NAK": the frame is refused at the link level
}

func framedBadInput() []badFrame {
	badLRC := frame("type=PING" + fs + "id=1")
	badLRC[len(badLRC)-1] ^= 0x20
	return []badFrame{
		{"bad LRC", badLRC, "NAK", ""},
		{"oversize", frame("type=PING" + fs + "id=" + strings.Repeat("x", 70<<10)), ecrproto.CodeTooLarge, ""},
		{"garbage payload", frame("hello world"), ecrproto.CodeFormat, ""},
		{"empty frame", frame(""), ecrproto.CodeFormat, ""},
		{"bad utf8", frame("type=PING" + fs + "id=\xff"), ecrproto.CodeFormat, ""},
		{"unknown type", frame("type=PAY" + fs + "id=1"), ecrproto.CodeType, ""},
		{"missing id", frame("type=PING"), ecrproto.CodeField, "id"},
		{"amount decimal", frame("type=SALE" + fs + "id=1" + fs + "lane=1" + fs + "ref=R" + fs + "amount=12.50" + fs + "currency=HKD"), ecrproto.CodeField, "amount"},
		{"amount negative", frame("type=SALE" + fs + "id=1" + fs + "lane=1" + fs + "ref=R" + fs + "amount=-1" + fs + "currency=HKD"), ecrproto.CodeField, "amount"},
		{"missing currency", frame("type=SALE" + fs + "id=1" + fs + "lane=1" + fs + "ref=R" + fs + "amount=1"), ecrproto.CodeField, "currency"},
		{"control bytes first", append([]byte("\x05\x04\r\n\x00"), frame("type=STATUS"+fs+"id=1")...), ecrproto.CodeField, "lane"},
	}
}
