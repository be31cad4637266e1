package control

import (
	"strings"

	"github.com/tillbridge/tillbridge/daemon/logging"
)

// newBundleRedactor returns the log filter's Redactor holding secrets, for
// the support bundle's files: it replaces every secret (also JSON-escaped,
// and PEM keys line by line) with [REDACTED] and masks free-standing 16–24
// digit runs to their last four, leaving the partner_trans_ids support
// needs intact. Secrets shorter than logging.MinSecretLen are skipped
// (scrubbing them would shred ordinary words).
func newBundleRedactor(secrets []string) *logging.Redactor {
	r, _ := logging.NewRedactor() // no secrets: cannot fail
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= logging.MinSecretLen {
			_ = r.AddSecret(s) // long enough: cannot fail
		}
	}
	return r
}
