package daemon_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestProtocolDocListsEveryFieldError checks that section 5.4 of the
// protocol document lists the message of every E_FIELD error that ecrproto
// and the daemon create (found in their sources), so the table cannot
// fall behind the code. Messages built from the journal's reasons ("%s")
// are listed by hand.
func TestProtocolDocListsEveryFieldError(t *testing.T) {
	t.Parallel()
	// E_FIELD messages no ECR request can get: checks of the daemon's own
	// answers, and of values only a Go caller can set.
	notForECRs := map[string]string{
		"unknown status %.32q": "RESULT status: answers only (an ECR's RESULT is E_TYPE)",
		"must not be negative": "a negative amount in a Message built in Go; decoders refuse '-' first",
	}
	doc, err := os.ReadFile(protocolDoc)
	if err != nil {
		t.Fatal(err)
	}
	start, end := strings.Index(string(doc), "### 5.4 E_FIELD cases"), strings.Index(string(doc), "## 6.")
	if start < 0 || end < start {
		t.Fatal("the document has no section 5.4 before section 6")
	}
	table := string(doc[start:end])
	call := regexp.MustCompile(`FieldError\(\s*[^,()]+,\s*"((?:[^"\\]|\\.)*)"`)
	verb := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	var files []string
	for _, dir := range []string{"../ecrproto", "."} {
		m, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			format := m[1]
			if _, skip := notForECRs[format]; skip || format == "%s" || format == "format" {
				continue
			}
			found++
			for _, piece := range verb.Split(format, -1) {
				if piece = strings.TrimSpace(piece); len(piece) >= 3 && !strings.Contains(table, piece) {
					t.Errorf("%s: E_FIELD message %q is not in section 5.4 (missing %q)", f, format, piece)
				}
			}
		}
	}
	if found < 15 {
		t.Fatalf("found only %d E_FIELD messages in the sources: the pattern no longer matches the code", found)
	}
}
