package logging

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// Redaction bounds. Alipay's customer codes (the buyer's payment barcode,
// "auth code") are 16 to 24 digits; a maximal digit run of that length is
// masked wherever it appears. Longer runs (Alipay trade numbers have 28
// digits) and shorter ones (amounts, ids) are left alone.
const (
	MinCodeDigits = 16
	MaxCodeDigits = 24
	// MinSecretLen is the shortest secret AddSecret accepts: a shorter one
	// would scrub ordinary words from every line.
	MinSecretLen = 6
	// Redacted replaces every occurrence of a registered secret.
	Redacted = "[REDACTED]"
	// pemChunk is the line length of PEM bodies; a long base64 secret is
	// also registered in chunks of this size, and each PEM body line on its
	// own, so a key logged in either form is caught.
	pemChunk = 64
	// minFragment is the shortest key fragment registered on its own.
	minFragment = 16
)

// ErrSecretTooShort is returned for a secret shorter than MinSecretLen.
var ErrSecretTooShort = errors.New("secret too short to redact safely")

// MaskCode masks a customer code for display: only its last 4 characters
// are kept ("****1234"). Codes of 4 characters or fewer become "****".
func MaskCode(code string) string {
	r := []rune(code)
	if len(r) <= 4 {
		return "****"
	}
	return "****" + string(r[len(r)-4:])
}

// Redactor scrubs registered secrets and customer-code-looking digit runs
// from text. It is the last line of defence: code paths should never log a
// key or a full code in the first place. The zero value is not usable; build
// one with NewRedactor. It is safe for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	secrets  map[string]bool
	replacer *strings.Replacer // nil when no secrets are registered
}

// NewRedactor returns a Redactor holding secrets (see AddSecret).
func NewRedactor(secrets ...string) (*Redactor, error) {
	r := &Redactor{secrets: map[string]bool{}}
	for _, s := range secrets {
		if err := r.AddSecret(s); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// AddSecret registers a secret (an MD5 key, PEM key material, a shared key)
// so that it is replaced by Redacted in everything redacted from now on. The
// secret is also registered in its JSON-escaped form and, for PEM or long
// base64 material, line by line, so a key logged in another layout is still
// caught. Surrounding whitespace is ignored; an empty secret is ignored.
func (r *Redactor) AddSecret(secret string) error {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil
	}
	if len(secret) < MinSecretLen {
		return fmt.Errorf("add secret of %d bytes: %w", len(secret), ErrSecretTooShort)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, form := range secretForms(secret) {
		r.secrets[form] = true
	}
	r.replacer = buildReplacer(r.secrets)
	return nil
}

// secretForms returns every form of secret to scrub.
func secretForms(secret string) []string {
	forms := []string{secret, jsonEscape(secret)}
	var body strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(secret, "\r", ""), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "-----") {
			continue
		}
		body.WriteString(line)
		if len(line) >= minFragment && line != secret {
			forms = append(forms, line)
		}
	}
	if b := body.String(); b != secret && len(b) >= minFragment {
		forms = append(forms, b)
	}
	if b := body.String(); len(b) > pemChunk {
		for i := 0; i < len(b); i += pemChunk {
			if chunk := b[i:min(i+pemChunk, len(b))]; len(chunk) >= minFragment {
				forms = append(forms, chunk)
			}
		}
	}
	return forms
}

// jsonEscape returns s as it appears inside a JSON string.
func jsonEscape(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		return s
	}
	return string(b[1 : len(b)-1])
}

// buildReplacer replaces the longest secrets first.
func buildReplacer(secrets map[string]bool) *strings.Replacer {
	list := make([]string, 0, len(secrets))
	for s := range secrets {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
	pairs := make([]string, 0, 2*len(list))
	for _, s := range list {
		pairs = append(pairs, s, Redacted)
	}
	return strings.NewReplacer(pairs...)
}

// Redact returns s with every registered secret replaced by Redacted and
// every free-standing 16–24-digit run masked with MaskCode.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep != nil {
		s = rep.Replace(s)
	}
	return maskCodes(s)
}

// maskCodes masks every maximal digit run of MinCodeDigits..MaxCodeDigits
// that stands on its own. A run glued to a letter is part of an identifier
// (a partner_trans_id such as TBLANE120261125194332R7Q…, whose terminal,
// time and random parts can join into a long digit run) and is left alone,
// so the ids support needs survive; a customer code is always delimited
// (a quote, '=', a space), and the letter of an escape like \n counts as a
// delimiter.
func maskCodes(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if n := j - i; n >= MinCodeDigits && n <= MaxCodeDigits && !gluedToLetter(s, i, j) {
			b.WriteString(s[last:i])
			b.WriteString(MaskCode(s[i:j]))
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// gluedToLetter reports whether the run s[i:j] touches an ASCII letter on
// either side, not counting the letter of a backslash escape before it.
func gluedToLetter(s string, i, j int) bool {
	before := i > 0 && isLetter(s[i-1]) && (i < 2 || s[i-2] != '\\')
	after := j < len(s) && isLetter(s[j])
	return before || after
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Writer returns a zerolog.LevelWriter that redacts every write before
// passing it to w. Each write must hold whole lines (zerolog writes one
// event per call), so that no secret is split across two writes.
func (r *Redactor) Writer(w io.Writer) zerolog.LevelWriter {
	lw, ok := w.(zerolog.LevelWriter)
	if !ok {
		lw = zerolog.LevelWriterAdapter{Writer: w}
	}
	return &redactWriter{r: r, next: lw}
}

// redactWriter is the writer returned by Redactor.Writer.
type redactWriter struct {
	r    *Redactor
	next zerolog.LevelWriter
}

// Write redacts p and writes it on; it reports len(p) on success.
func (w *redactWriter) Write(p []byte) (int, error) {
	if _, err := w.next.Write([]byte(w.r.Redact(string(p)))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteLevel is Write keeping the level for level-aware writers.
func (w *redactWriter) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	if _, err := w.next.WriteLevel(level, []byte(w.r.Redact(string(p)))); err != nil {
		return 0, err
	}
	return len(p), nil
}
