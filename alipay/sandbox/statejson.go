package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// jsonStateVersion is the version of the JSON state file written before
// the state moved to SQLite.
const jsonStateVersion = 1

// jsonState is the JSON state file of earlier versions, read only to import
// it into a new state database.
type jsonState struct {
	Version int            `json:"version"`
	Seq     int64          `json:"seq"`
	Trades  []*tradeRecord `json:"trades"`
}

// readJSONState reads the trades of a JSON state file; no path or a
// missing file is no trades. The Alipay id sequence needs no import: it is
// recomputed from the trades' ids.
func readJSONState(path string) ([]*tradeRecord, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f jsonState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if f.Version != jsonStateVersion {
		return nil, fmt.Errorf("version %d, want %d", f.Version, jsonStateVersion)
	}
	return f.Trades, nil
}
