package ecrproto_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tillbridge/tillbridge/ecrproto"
)

// frame builds STX payload ETX LRC by hand, independently of AppendFrame.
func frame(payload string) []byte {
	lrc := byte(0x03)
	for i := 0; i < len(payload); i++ {
		lrc ^= payload[i]
	}
	return append(append([]byte{0x02}, payload...), 0x03, lrc)
}

const fs = "\x1c"

func TestLRC(t *testing.T) {
	t.Parallel()
	// "A" (0x41) ^ ETX (0x03) = 0x42.
	if got := ecrproto.LRC([]byte("A")); got != 0x42 {
		t.Fatalf("LRC(A) = %#x", got)
	}
	if got := ecrproto.AppendFrame(nil, []byte("A")); !bytes.Equal(got, []byte{0x02, 'A', 0x03, 0x42}) {
		t.Fatalf("frame = % x", got)
	}
}

func TestFrameReader_Items(t *testing.T) {
	t.Parallel()
	var in []byte
	in = append(in, 0x06, 0x15, 'x', '\r')
	in = append(in, frame("type=PING"+fs+"id=1")...)
	bad := frame("type=PING" + fs + "id=2")
	bad[len(bad)-1] ^= 0xFF
	in = append(in, bad...)
	in = append(in, 0x02, 'j', 'u', 'n', 'k') // abandoned by the next STX
	in = append(in, frame("type=PING"+fs+"id=3")...)
	r := ecrproto.NewFrameReader(bufio.NewReader(bytes.NewReader(in)), 0)

	kinds := []ecrproto.FrameKind{ecrproto.FrameACK, ecrproto.FrameNAK, ecrproto.FrameNoise, ecrproto.FrameNoise}
	for i, want := range kinds {
		if f, err := r.ReadFrame(); err != nil || f.Kind != want {
			t.Fatalf("item %d: %v %v, want kind %v", i, f.Kind, err, want)
		}
	}
	f, err := r.ReadFrame()
	if err != nil || string(f.Payload) != "type=PING"+fs+"id=1" {
		t.Fatalf("good frame: %q %v", f.Payload, err)
	}
	if _, err := r.ReadFrame(); !errors.Is(err, ecrproto.ErrBadLRC) {
		t.Fatalf("bad LRC: %v", err)
	}
	f, err = r.ReadFrame()
	if err != nil || string(f.Payload) != "type=PING"+fs+"id=3" {
		t.Fatalf("after resync: %q %v", f.Payload, err)
	}
	if _, err := r.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
}

func TestFrameReader_SplitAcrossReads(t *testing.T) {
	t.Parallel()
	in := append(frame("type=PING"+fs+"id=1"), frame("type=PING"+fs+"id=2")...)
	r := ecrproto.NewFrameReader(bufio.NewReader(iotest.OneByteReader(bytes.NewReader(in))), 0)
	for _, id := range []string{"1", "2"} {
		f, err := r.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		m, err := ecrproto.DecodeFields(f.Payload)
		if err != nil || m.ID != id {
			t.Fatalf("frame %s: %+v %v", id, m, err)
		}
	}
}

func TestFrameReader_TwoFramesOneRead(t *testing.T) {
	t.Parallel()
	in := append(frame("type=PING"+fs+"id=1"), frame("type=PING"+fs+"id=2")...)
	br := bufio.NewReader(bytes.NewReader(in))
	br.Peek(len(in)) // both frames in the buffer at once
	r := ecrproto.NewFrameReader(br, 0)
	for _, id := range []string{"1", "2"} {
		f, err := r.ReadFrame()
		if err != nil || !strings.HasSuffix(string(f.Payload), "id="+id) {
			t.Fatalf("frame %s: %q %v", id, f.Payload, err)
		}
	}
}

func TestFrameReader_Oversize(t *testing.T) {
	t.Parallel()
	big := frame("type=PING" + fs + "id=" + strings.Repeat("9", 200))
	badBig := frame("type=PING" + fs + "id=" + strings.Repeat("8", 200))
	badBig[len(badBig)-1] ^= 0x55
	in := append(append(big, badBig...), frame("type=PING"+fs+"id=1")...)
	r := ecrproto.NewFrameReader(bufio.NewReaderSize(bytes.NewReader(in), 16), 64)
	_, err := r.ReadFrame()
	wantErr(t, err, ecrproto.CodeTooLarge, "")
	if _, err := r.ReadFrame(); !errors.Is(err, ecrproto.ErrBadLRC) {
		t.Fatalf("damaged oversize frame must be NAKed: %v", err)
	}
	f, err := r.ReadFrame()
	if err != nil || string(f.Payload) != "type=PING"+fs+"id=1" {
		t.Fatalf("after oversize: %q %v", f.Payload, err)
	}
}

func TestFrameReader_TruncatedFrame(t *testing.T) {
	t.Parallel()
	for _, in := range [][]byte{{0x02, 'a', 'b'}, {0x02, 'a', 0x03}} {
		r := ecrproto.NewFrameReader(bufio.NewReader(bytes.NewReader(in)), 0)
		if _, err := r.ReadFrame(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("% x: %v", in, err)
		}
	}
}

func TestDecodeFields(t *testing.T) {
	t.Parallel()
	m, err := ecrproto.DecodeFields([]byte("type=SALE" + fs + "id=5" + fs + "lane=1" + fs + "ref=R=1" + fs +
		"amount=0001250" + fs + "currency=HKD" + fs + "subject=" + fs + "unknown=x" + fs))
	if err != nil {
		t.Fatal(err)
	}
	if m.Ref != "R=1" || *m.Amount != 1250 || m.Subject != "" {
		t.Fatalf("decoded %+v", m)
	}
	m, err = ecrproto.DecodeFields([]byte("type=PRINT" + fs + "receipt=line 1\nline 2\r\n"))
	if err != nil || m.Receipt != "line 1\nline 2\r\n" {
		t.Fatalf("receipt with newlines: %q %v", m.Receipt, err)
	}
}

func TestDecodeFields_Bad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in    string
		code, field string
	}{
		{"empty", "", ecrproto.CodeFormat, ""},
		{"only separators", fs + fs, ecrproto.CodeFormat, ""},
		{"no equals", "type=PING" + fs + "garbage", ecrproto.CodeFormat, ""},
		{"empty name", "=x", ecrproto.CodeFormat, ""},
		{"bad utf8", "type=\xff", ecrproto.CodeFormat, ""},
		{"amount decimal", "id=1" + fs + "amount=12.50", ecrproto.CodeField, "amount"},
		{"amount negative", "amount=-5", ecrproto.CodeField, "amount"},
		{"amount exponent", "amount=1e3", ecrproto.CodeField, "amount"},
		{"amount spaces", "amount= 12", ecrproto.CodeField, "amount"},
		{"amount too long", "amount=1234567890123456789", ecrproto.CodeField, "amount"},
		{"duplicate", "id=1" + fs + "id=1", ecrproto.CodeField, "id"},
		{"control char", "id=1" + fs + "message=a\x00b", ecrproto.CodeField, "message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ecrproto.DecodeFields([]byte(tt.in))
			wantErr(t, err, tt.code, tt.field)
		})
	}
}

func TestEncodeFrame(t *testing.T) {
	t.Parallel()
	b, err := ecrproto.EncodeFrame(&ecrproto.Message{Type: "RESULT", ID: "1", Status: "APPROVED",
		Amount: ecrproto.Int(1250), Receipt: "a\nb"})
	if err != nil {
		t.Fatal(err)
	}
	want := frame("type=RESULT" + fs + "id=1" + fs + "amount=1250" + fs + "status=APPROVED" + fs + "receipt=a\nb")
	if !bytes.Equal(b, want) {
		t.Fatalf("got  % x\nwant % x", b, want)
	}
	_, err = ecrproto.EncodeFrame(&ecrproto.Message{Type: "EVENT", Message: "a" + fs + "b"})
	wantErr(t, err, ecrproto.CodeField, "message")
}
