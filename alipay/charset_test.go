package alipay

import (
	"bytes"
	"testing"
)

func TestCharsetRoundTrip(t *testing.T) {
	t.Parallel()
	text := "Ticket 成人票 x2"
	for _, cs := range []string{"UTF-8", "utf-8", "GBK", "gbk", "GB2312", "gb2312"} {
		b, err := EncodeCharset(text, cs)
		if err != nil {
			t.Fatalf("encode %s: %v", cs, err)
		}
		back, err := DecodeCharset(b, cs)
		if err != nil || back != text {
			t.Fatalf("decode %s: %q, %v", cs, back, err)
		}
	}
	gbk, _ := EncodeCharset("成人票", "GBK")
	if !bytes.Equal(gbk, []byte{0xb3, 0xc9, 0xc8, 0xcb, 0xc6, 0xb1}) {
		t.Fatalf("GBK bytes % x", gbk)
	}
}

func TestCharsetRejects(t *testing.T) {
	t.Parallel()
	if _, err := EncodeCharset("x", "latin1"); err == nil {
		t.Error("unknown charset accepted for encoding")
	}
	if _, err := DecodeCharset([]byte("x"), "big5"); err == nil {
		t.Error("unknown charset accepted for decoding")
	}
	if _, err := EncodeCharset("emoji 😀", "GBK"); err == nil {
		t.Error("unrepresentable rune encoded to GBK")
	}
	// 錢 (traditional) is in GBK but not in GB2312.
	if _, err := EncodeCharset("錢", "GBK"); err != nil {
		t.Errorf("GBK-only char: %v", err)
	}
	if _, err := EncodeCharset("錢", "GB2312"); err == nil {
		t.Error("GBK-only char encoded as GB2312")
	}
	if _, err := EncodeCharset("\xff", "UTF-8"); err == nil {
		t.Error("invalid UTF-8 input accepted")
	}
	if _, err := DecodeCharset([]byte{0xff, 0xfe}, "UTF-8"); err == nil {
		t.Error("invalid UTF-8 bytes decoded")
	}
	if _, err := DecodeCharset([]byte{0x81}, "GBK"); err == nil {
		t.Error("truncated GBK decoded")
	}
}
