package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rs/zerolog"
)

func TestSlogBridge(t *testing.T) {
	var buf bytes.Buffer
	l := slogFor(zerolog.New(&buf).Level(zerolog.InfoLevel), "ecr")
	l.Debug("hidden")
	l.With("conn", 7).WithGroup("req").Warn("bad request", "type", "SALE", "err", errors.New("boom"))
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	want := map[string]any{"level": "warn", "message": "bad request", "component": "ecr",
		"conn": float64(7), "req.type": "SALE", "req.err": "boom"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, m[k], v, buf.String())
		}
	}
}
