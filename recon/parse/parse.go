// Package parse reads Alipay's reconciliation files — the transaction file
// (reference §10.3) and the settlement file (§10.4) — strictly: the header
// record, the column names, every typed column. Files may be plain, gzip or
// zip, in UTF-8 or GBK. A bad line is never skipped silently: it is kept in
// the parsed file's Problems with its line number.
package parse

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// MaxFileBytes bounds the decompressed size of one file (a safety net
// against a corrupt or hostile archive): 1 GiB.
const MaxFileBytes = 1 << 30

// Problem is one bad line (or header) of a file.
type Problem struct {
	// Line is the 1-based line number; 0 for the file as a whole.
	Line int `json:"line"`
	// Column names the offending column, if one.
	Column string `json:"column,omitempty"`
	// Reason says what is wrong.
	Reason string `json:"reason"`
}

// String renders the problem as "line N: column: reason".
func (p Problem) String() string {
	if p.Column != "" {
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Column, p.Reason)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
}

// FormatError reports a file that cannot be read at all: not a known
// compression, bad charset, no header record, a missing column.
type FormatError struct {
	// File is the file's name, as given to the parser.
	File string
	// Line is where the problem is (0: the file as a whole).
	Line int
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *FormatError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("recon/parse: %s: line %d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("recon/parse: %s: %s", e.File, e.Reason)
}

// Charset says how to decode a file.
type Charset string

// Charsets. CharsetAuto takes UTF-8 when the whole file is valid UTF-8
// (a BOM is dropped), GBK otherwise.
const (
	CharsetAuto Charset = ""
	CharsetUTF8 Charset = "UTF-8"
	CharsetGBK  Charset = "GBK"
)

// Decode returns the text of a file's raw bytes: it unpacks gzip or a
// one-file zip (by their magic bytes) and decodes the charset.
func Decode(name string, raw []byte, cs Charset) (string, error) {
	data, err := decompress(name, raw)
	if err != nil {
		return "", err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch {
	case cs == CharsetUTF8 || (cs == CharsetAuto && utf8.Valid(data)):
		if !utf8.Valid(data) {
			return "", &FormatError{File: name, Reason: "not valid UTF-8"}
		}
		return string(data), nil
	case cs == CharsetGBK || cs == CharsetAuto:
		out, err := simplifiedchinese.GBK.NewDecoder().Bytes(data)
		if err != nil {
			return "", &FormatError{File: name, Reason: fmt.Sprintf("not valid GBK: %v", err)}
		}
		return string(out), nil
	}
	return "", &FormatError{File: name, Reason: fmt.Sprintf("unknown charset %q (want UTF-8 or GBK)", cs)}
}

// decompress unpacks gzip or zip data; anything else is returned as is.
func decompress(name string, raw []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(raw, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, &FormatError{File: name, Reason: fmt.Sprintf("bad gzip: %v", err)}
		}
		defer zr.Close()
		return readAllLimited(name, zr)
	case bytes.HasPrefix(raw, []byte("PK\x03\x04")):
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return nil, &FormatError{File: name, Reason: fmt.Sprintf("bad zip: %v", err)}
		}
		var files []*zip.File
		for _, f := range zr.File {
			if !f.FileInfo().IsDir() {
				files = append(files, f)
			}
		}
		if len(files) != 1 {
			return nil, &FormatError{File: name, Reason: fmt.Sprintf("zip holds %d files, want exactly 1", len(files))}
		}
		rc, err := files[0].Open()
		if err != nil {
			return nil, &FormatError{File: name, Reason: fmt.Sprintf("bad zip entry %s: %v", files[0].Name, err)}
		}
		defer rc.Close()
		return readAllLimited(name, rc)
	}
	return raw, nil
}

func readAllLimited(name string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, &FormatError{File: name, Reason: fmt.Sprintf("decompress: %v", err)}
	}
	if len(data) > MaxFileBytes {
		return nil, &FormatError{File: name, Reason: "decompressed file larger than 1 GiB"}
	}
	return data, nil
}

// lines splits text into lines, accepting \n and \r\n; a final empty line
// (the file's last line break) is dropped.
func lines(text string) []string {
	ls := strings.Split(text, "\n")
	if len(ls) > 0 && ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

// columns maps the column-name line to positions, checking that every
// required column is there exactly once. Unknown extra columns are
// allowed (Alipay adds columns over time) and ignored.
func columns(name string, line int, header string, required []string) (map[string]int, int, error) {
	names := strings.Split(header, "|")
	pos := make(map[string]int, len(names))
	for i, n := range names {
		n = strings.TrimSpace(n)
		if _, dup := pos[n]; dup {
			return nil, 0, &FormatError{File: name, Line: line, Reason: fmt.Sprintf("column %q appears twice", n)}
		}
		pos[n] = i
	}
	var missing []string
	for _, r := range required {
		if _, ok := pos[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return nil, 0, &FormatError{File: name, Line: line,
			Reason: fmt.Sprintf("not a column-name line: missing %s", strings.Join(missing, ", "))}
	}
	return pos, len(names), nil
}

// fieldError is a typed column's parse failure.
type fieldError struct {
	column, reason string
}

func (e *fieldError) Error() string { return e.column + ": " + e.reason }

// parseRecords parses the record lines ls[first:] (file lines first+1 on)
// with parse. An empty line, a line with other than width fields, and a
// field parse rejects (record.fail) are each a Problem with the line's
// number, never skipped silently. total >= 0 is the header's Total_count,
// checked against the number of non-empty record lines.
func parseRecords[R any](ls []string, first int, pos map[string]int, width, total int,
	parse func(r *record, line int) R) ([]R, []Problem) {
	out := make([]R, 0, len(ls)-first)
	var problems []Problem
	n := 0
	for i, l := range ls[first:] {
		line := i + first + 1
		if strings.TrimSpace(l) == "" {
			problems = append(problems, Problem{Line: line, Reason: "empty line"})
			continue
		}
		n++
		fields := strings.Split(l, "|")
		if len(fields) != width {
			problems = append(problems, Problem{Line: line, Reason: fmt.Sprintf("%d fields, want %d", len(fields), width)})
			continue
		}
		r := record{f: fields, pos: pos}
		v := parse(&r, line)
		if r.err != nil {
			problems = append(problems, Problem{Line: line, Column: r.err.column, Reason: r.err.reason})
			continue
		}
		out = append(out, v)
	}
	if total >= 0 && n != total {
		problems = append(problems, Problem{Line: 1, Column: "Total_count",
			Reason: fmt.Sprintf("header says %d records, the file has %d (truncated or corrupt?)", total, n)})
	}
	return out, problems
}

// record gives typed access to one line's fields.
type record struct {
	f   []string
	pos map[string]int
	err *fieldError // the first failure
}

func (r *record) fail(col, reason string) {
	if r.err == nil {
		r.err = &fieldError{col, reason}
	}
}

// str returns a column's value, trimmed.
func (r *record) str(col string) string { return strings.TrimSpace(r.f[r.pos[col]]) }

// nonEmpty returns a column's value and fails if it is empty.
func (r *record) nonEmpty(col string) string {
	v := r.str(col)
	if v == "" {
		r.fail(col, "empty")
	}
	return v
}

// digitsOnly returns a column's value and fails unless it is all digits.
func (r *record) digitsOnly(col string) string {
	v := r.str(col)
	if !digits(v) {
		r.fail(col, fmt.Sprintf("%q is not digits", v))
	}
	return v
}

// rate returns a decimal rate with up to 8 decimals.
func (r *record) rate(col string) string {
	v := r.str(col)
	if _, _, err := ParseMinor(v, 8); err != nil {
		r.fail(col, err.Error())
	}
	return v
}

// currency returns a three-letter upper-case currency code.
func (r *record) currency(col string) string {
	v := r.str(col)
	if len(v) != 3 || strings.ToUpper(v) != v || strings.IndexFunc(v, func(c rune) bool { return c < 'A' || c > 'Z' }) >= 0 {
		r.fail(col, fmt.Sprintf("%q is not a currency code", v))
	}
	return v
}

// amount parses a decimal amount in minor units of currency; a leading
// minus is accepted (some files sign refunds) and reported by neg.
func (r *record) amount(col, currency string) (minor int64, neg bool) {
	v := r.str(col)
	m, neg, err := ParseMinor(v, Exponent(currency))
	if err != nil {
		r.fail(col, err.Error())
	}
	return m, neg
}

// time parses "yyyy-MM-dd HH:mm:ss" in Beijing time.
func (r *record) time(col string, bj *time.Location) time.Time {
	v := r.str(col)
	t, err := time.ParseInLocation(time.DateTime, v, bj)
	if err != nil {
		r.fail(col, fmt.Sprintf("%q is not yyyy-MM-dd HH:mm:ss", v))
	}
	return t
}

// Exponent returns the decimals of a currency in the files: 0 for JPY and
// KRW, 2 otherwise (as on the gateway).
func Exponent(currency string) int {
	switch currency {
	case "JPY", "KRW":
		return 0
	}
	return 2
}

// ParseMinor parses a non-negative decimal with at most exp decimals (an
// optional leading minus is returned as neg) into minor units, exactly.
func ParseMinor(s string, exp int) (minor int64, neg bool, err error) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	ip, fp, hasDot := strings.Cut(s, ".")
	if ip == "" || len(ip) > 15 || (hasDot && (fp == "" || len(fp) > exp)) {
		return 0, false, fmt.Errorf("%q is not an amount with at most %d decimals", s, exp)
	}
	for _, c := range ip + fp {
		if c < '0' || c > '9' {
			return 0, false, fmt.Errorf("%q is not an amount", s)
		}
	}
	fp += strings.Repeat("0", exp-len(fp))
	m, err := strconv.ParseInt(ip+fp, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%q: %w", s, err)
	}
	return m, neg, nil
}

// FormatMinor renders minor units of currency as a decimal ("12.50").
func FormatMinor(minor int64, currency string) string {
	exp := Exponent(currency)
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	s := strconv.FormatInt(minor, 10)
	if exp == 0 {
		return sign + s
	}
	for len(s) <= exp {
		s = "0" + s
	}
	return sign + s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// Beijing is the GMT+8 zone of every time in the files (fixed: China has
// no daylight saving time).
func Beijing() *time.Location { return time.FixedZone("GMT+8", 8*3600) }
