package validate_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/validate"
)

func TestValidateSandbox(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var cases []string
	if s := os.Getenv("VALIDATE_CASES"); s != "" {
		cases = strings.Split(s, ",")
	}
	rep, err := validate.Run(ctx, validate.Options{OutDir: out, Cases: cases, Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_ = validate.WriteText(&b, rep)
	t.Log(b.String())
	if f := os.Getenv("VALIDATE_JSON"); f != "" {
		fh, _ := os.Create(f)
		_ = validate.WriteJSON(fh, rep)
		fh.Close()
	}
	paths, err := validate.WriteFiles(out, rep)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(paths)
	if d := os.Getenv("VALIDATE_KEEP"); d != "" {
		for _, p := range paths {
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(d+"/"+p[strings.LastIndex(p, "/")+1:], b, 0o644)
		}
	}
	if !rep.Passed {
		t.Fatal("run failed")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
