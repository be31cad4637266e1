package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report file names in the output directory.
const (
	TextFile = "report.txt"
	JSONFile = "report.json"
	HTMLFile = "report.html"
)

// WriteText writes the summary: the pre-flight checks, then PASS/FAIL per
// case with the reason, then the verdict.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "tillbridge go-live certification — against %s (%s, partner %s, %s)\n",
		r.Against, r.Gateway, r.Partner, r.SignType)
	fmt.Fprintf(&b, "run %s – %s (%s)\n\n", r.Started.Format(time.RFC3339), r.Finished.Format(time.RFC3339),
		r.Finished.Sub(r.Started).Round(time.Second))
	b.WriteString("Pre-flight checks\n")
	for _, c := range r.Preflight {
		fmt.Fprintf(&b, "  %-4s %-32s %s\n", okWord(c.OK), c.Name, c.Detail)
	}
	b.WriteString("\nCases\n")
	for _, c := range r.Cases {
		fmt.Fprintf(&b, "  %-4s %-14s %-34s %6s", c.Verdict, c.ID, c.Title, c.Took.Round(10*time.Millisecond))
		if c.Verdict != Pass && c.Reason != "" {
			fmt.Fprintf(&b, "  %s", c.Reason)
		}
		b.WriteString("\n")
	}
	if len(r.Cleanup) > 0 {
		b.WriteString("\nRefunds of the test payments\n")
		for _, c := range r.Cleanup {
			fmt.Fprintf(&b, "  %-4s %-32s %s\n", okWord(c.OK), c.Name, c.Detail)
		}
	}
	pass, fail, na := r.Counts()
	verdict := "FAILED"
	if r.Passed {
		verdict = "PASSED"
	}
	fmt.Fprintf(&b, "\n%s: %d passed, %d failed, %d not applicable\n", verdict, pass, fail, na)
	_, err := io.WriteString(w, b.String())
	return err
}

func okWord(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// WriteJSON writes the report for tools.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteFiles writes report.txt, report.json and report.html into dir and
// returns their paths.
func WriteFiles(dir string, r *Report) ([]string, error) {
	writers := []struct {
		name string
		fn   func(io.Writer, *Report) error
	}{{TextFile, WriteText}, {JSONFile, WriteJSON}, {HTMLFile, WriteHTML}}
	var paths []string
	for _, wr := range writers {
		p := filepath.Join(dir, wr.name)
		if err := writeFile(p, r, wr.fn); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func writeFile(path string, r *Report, fn func(io.Writer, *Report) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := fn(f, r); err != nil {
		f.Close()
		return fmt.Errorf("report %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
