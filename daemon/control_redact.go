package daemon

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/tillbridge/tillbridge/daemon/logging"
)

// Redaction bounds of the support bundle (the same as the log filter's).
const (
	minRedactSecret = logging.MinSecretLen
	minCodeDigits   = logging.MinCodeDigits
	maxCodeDigits   = logging.MaxCodeDigits
	pemLine         = 64
	minKeyFragment  = 16
)

// bundleRedactor scrubs the configured secrets and customer codes from the
// support bundle's files. Like the log filter it replaces every secret
// (also JSON-escaped, and PEM keys line by line) with [REDACTED] and masks
// 16–24 digit runs to their last four; unlike it, a digit run inside an
// identifier (TBSANDBOX2202611251943322R…) is left alone, so the
// partner_trans_ids support needs survive. A code is never glued to
// letters: logs and JSON delimit it.
type bundleRedactor struct {
	rep *strings.Replacer // nil without secrets
}

// newBundleRedactor registers secrets; ones shorter than six characters
// are skipped (scrubbing them would shred ordinary words).
func newBundleRedactor(secrets []string) *bundleRedactor {
	set := map[string]bool{}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= minRedactSecret {
			for _, f := range secretVariants(s) {
				set[f] = true
			}
		}
	}
	if len(set) == 0 {
		return &bundleRedactor{}
	}
	list := make([]string, 0, len(set))
	for s := range set {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	pairs := make([]string, 0, 2*len(list))
	for _, s := range list {
		pairs = append(pairs, s, logging.Redacted)
	}
	return &bundleRedactor{rep: strings.NewReplacer(pairs...)}
}

// secretVariants are the forms a secret may take in a file: as is,
// JSON-escaped, and for PEM keys each body line, the joined body and its
// 64-character chunks.
func secretVariants(secret string) []string {
	out := []string{secret}
	if b, err := json.Marshal(secret); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	var body strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(secret, "\r", ""), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "-----") {
			continue
		}
		body.WriteString(line)
		if len(line) >= minKeyFragment {
			out = append(out, line)
		}
	}
	b := body.String()
	if len(b) >= minKeyFragment {
		out = append(out, b)
	}
	for i := 0; len(b) > pemLine && i < len(b); i += pemLine {
		if chunk := b[i:min(i+pemLine, len(b))]; len(chunk) >= minKeyFragment {
			out = append(out, chunk)
		}
	}
	return out
}

// Redact returns s without secrets and with customer codes masked.
func (r *bundleRedactor) Redact(s string) string {
	if r.rep != nil {
		s = r.rep.Replace(s)
	}
	return maskCodeRuns(s)
}

// maskCodeRuns masks every 16–24 digit run not glued to a letter (a
// letter of an escape like \n is a delimiter).
func maskCodeRuns(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isASCIIDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isASCIIDigit(s[j]) {
			j++
		}
		n := j - i
		glued := (i > 0 && isASCIILetter(s[i-1]) && (i < 2 || s[i-2] != '\\')) || (j < len(s) && isASCIILetter(s[j]))
		if n >= minCodeDigits && n <= maxCodeDigits && !glued {
			b.WriteString(s[last:i])
			b.WriteString(logging.MaskCode(s[i:j]))
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	return b.String() + s[last:]
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
