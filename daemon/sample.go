package daemon

import _ "embed"

//go:embed tillbridge.sample.toml
var sampleConfig []byte

// SampleConfig returns the commented sample configuration, the one the
// installer writes when no config exists. The returned slice is a copy.
func SampleConfig() []byte { return append([]byte(nil), sampleConfig...) }
