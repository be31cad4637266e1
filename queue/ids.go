package queue

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
)

// crockford is Crockford's base32 alphabet: sortable, no I/L/O/U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// maxTerminalInID is how much of the terminal id goes into partner ids.
const maxTerminalInID = 16

// newOpID returns a 26-character, time-sortable operation id: 48 bits of
// Unix milliseconds then 80 random bits, in Crockford base32 (ULID layout).
func newOpID(now time.Time, rnd io.Reader) (string, error) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := io.ReadFull(rnd, b[6:]); err != nil {
		return "", fmt.Errorf("queue: operation id: %w", err)
	}
	return encode32(b[:], 26), nil
}

// newPartnerID returns a gateway identifier: prefix, the terminal (letters
// and digits only, at most 16), the UTC time to the second and 8 random
// base32 characters — at most 40 characters, well under Alipay's 64.
func newPartnerID(prefix, terminal string, now time.Time, rnd io.Reader) (string, error) {
	var b [5]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("queue: partner id: %w", err)
	}
	return prefix + cleanTerminal(terminal) + now.UTC().Format("20060102150405") + encode32(b[:], 8), nil
}

func cleanTerminal(t string) string {
	var sb strings.Builder
	for _, r := range t {
		if sb.Len() == maxTerminalInID {
			break
		}
		if r < 128 && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// encode32 writes the leading n*5 bits of b (big-endian) in base32.
func encode32(b []byte, n int) string {
	out := make([]byte, n)
	var acc uint64
	bits, i := 0, 0
	for o := range out {
		for bits < 5 {
			acc <<= 8
			if i < len(b) {
				acc |= uint64(b[i])
			}
			i++
			bits += 8
		}
		bits -= 5
		out[o] = crockford[(acc>>uint(bits))&31]
	}
	return string(out)
}

// MaskCode hides all but the last 4 characters of a buyer code; the journal
// and logs only ever see the masked form.
func MaskCode(code string) string {
	if len(code) <= 4 {
		return strings.Repeat("*", len(code))
	}
	return strings.Repeat("*", len(code)-4) + code[len(code)-4:]
}
