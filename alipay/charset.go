package alipay

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Canonical charset names, as sent in _input_charset.
const (
	CharsetUTF8   = "UTF-8"
	CharsetGBK    = "GBK"
	CharsetGB2312 = "GB2312"
)

// canonicalCharset maps a charset label (case-insensitive) to its canonical
// name; ok is false for anything but UTF-8, GBK and GB2312.
func canonicalCharset(name string) (canon string, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "UTF-8", "UTF8":
		return CharsetUTF8, true
	case "GBK", "CP936":
		return CharsetGBK, true
	case "GB2312", "EUC-CN":
		return CharsetGB2312, true
	}
	return "", false
}

// gbk is the x/text codec for both Chinese charsets: GB2312 text is read
// with the GBK decoder (GBK is a superset) and GB2312 output is checked to
// stay inside the EUC-CN ranges.
func gbk() encoding.Encoding { return simplifiedchinese.GBK }

// EncodeCharset converts the UTF-8 string s to bytes in charset (UTF-8, GBK
// or GB2312, case-insensitive). Characters the charset cannot represent are
// an error, never silently replaced.
func EncodeCharset(s, charset string) ([]byte, error) {
	canon, ok := canonicalCharset(charset)
	if !ok {
		return nil, fmt.Errorf("alipay: unsupported charset %q", charset)
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("alipay: encode %s: input is not valid UTF-8", canon)
	}
	if canon == CharsetUTF8 {
		return []byte(s), nil
	}
	b, err := gbk().NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("alipay: encode %s: %w", canon, err)
	}
	if canon == CharsetGB2312 && !isEUCCN(b) {
		return nil, fmt.Errorf("alipay: encode %s: text has characters outside GB2312", canon)
	}
	return b, nil
}

// DecodeCharset converts b, encoded in charset (UTF-8, GBK or GB2312,
// case-insensitive), to a UTF-8 string. Invalid input is an error.
func DecodeCharset(b []byte, charset string) (string, error) {
	canon, ok := canonicalCharset(charset)
	if !ok {
		return "", fmt.Errorf("alipay: unsupported charset %q", charset)
	}
	if canon == CharsetUTF8 {
		if !utf8.Valid(b) {
			return "", fmt.Errorf("alipay: decode %s: invalid UTF-8", canon)
		}
		return string(b), nil
	}
	out, err := gbk().NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("alipay: decode %s: %w", canon, err)
	}
	if strings.ContainsRune(string(out), utf8.RuneError) {
		return "", fmt.Errorf("alipay: decode %s: invalid byte sequence", canon)
	}
	return string(out), nil
}

// isEUCCN reports whether b is ASCII plus GB2312 (EUC-CN) double-byte
// characters: both bytes in 0xA1–0xFE.
func isEUCCN(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] < 0x80 {
			continue
		}
		if b[i] < 0xA1 || b[i] > 0xF7 || i+1 >= len(b) || b[i+1] < 0xA1 || b[i+1] > 0xFE {
			return false
		}
		i++
	}
	return true
}
