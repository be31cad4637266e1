package daemon

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// UnknownKey is one key of a config file that no field takes.
type UnknownKey struct {
	Key  string // dotted, e.g. "gateway.parter"
	Line int    // 1-based; 0 when it could not be found
}

// UnknownKeysError reports every unknown key of a config file: a typo must
// not be silently ignored.
type UnknownKeysError struct {
	File string
	Keys []UnknownKey
}

// Error lists every unknown key, with its line when known.
func (e *UnknownKeysError) Error() string {
	parts := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		if k.Line > 0 {
			parts[i] = fmt.Sprintf("%s (line %d)", k.Key, k.Line)
		} else {
			parts[i] = k.Key
		}
	}
	where := "config"
	if e.File != "" {
		where = e.File
	}
	return fmt.Sprintf("%s: unknown key(s): %s", where, strings.Join(parts, ", "))
}

// LoadConfig reads, strictly decodes and validates the TOML file at path.
// Relative paths in it are resolved against the file's directory (a
// Windows service starts in system32, not where its config is).
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config path: %w", err)
	}
	cfg, err := DecodeConfig(data, filepath.Dir(abs))
	if err != nil {
		var uk *UnknownKeysError
		if errors.As(err, &uk) {
			uk.File = path
		}
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// DecodeConfig decodes TOML data on top of [NewConfig]'s defaults. Any key
// no field takes is an [*UnknownKeysError]. Relative paths are resolved
// against baseDir when it is not empty. It does not validate.
func DecodeConfig(data []byte, baseDir string) (*Config, error) {
	cfg := NewConfig()
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config: %s", pe.Error())
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, unknownKeys(data, und)
	}
	cfg.applyDefaults()
	if baseDir != "" {
		cfg.resolvePaths(baseDir)
	}
	return cfg, nil
}

// unknownKeys builds the error for the undecoded keys, with the line each
// is defined on when it can be found.
func unknownKeys(data []byte, keys []toml.Key) error {
	lines := keyLines(data)
	e := &UnknownKeysError{}
	for _, k := range keys {
		e.Keys = append(e.Keys, UnknownKey{Key: k.String(), Line: lines[k.String()]})
	}
	return e
}

// keyLines maps dotted keys (tables and key = value lines) to the first line
// that defines them. It is a light scan, good enough to point a person at a
// typo: it follows [table] and [[array]] headers and skips multi-line values.
func keyLines(data []byte) map[string]int {
	out := map[string]int{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			table = strings.Trim(strings.SplitN(line, "#", 2)[0], "[] \t")
			setFirst(out, table, n)
		default:
			if k, _, ok := strings.Cut(line, "="); ok {
				key := strings.Trim(strings.TrimSpace(k), `"'`)
				if table != "" {
					key = table + "." + key
				}
				setFirst(out, key, n)
			}
		}
	}
	return out
}

func setFirst(m map[string]int, k string, n int) {
	if _, ok := m[k]; !ok {
		m[k] = n
	}
}

// resolvePaths makes every relative file path absolute against base.
func (c *Config) resolvePaths(base string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	abs(&c.Daemon.DataDir)
	abs(&c.Daemon.LogFile)
	abs(&c.Gateway.MD5KeyFile)
	abs(&c.Gateway.PrivateKeyFile)
	abs(&c.Gateway.AlipayPublicKeyFile)
	abs(&c.Console.TLSCert)
	abs(&c.Console.TLSKey)
	abs(&c.Console.ValidationDir)
	if c.Control.Socket != "" && !strings.HasPrefix(c.Control.Socket, `\\.\pipe\`) {
		abs(&c.Control.Socket)
	}
	for i := range c.Listen {
		abs(&c.Listen[i].SharedKeyFile)
		if c.Listen[i].Network == "unix" {
			abs(&c.Listen[i].Address)
		}
	}
	for name, p := range c.Printers {
		if p.Backend == "file" {
			abs(&p.Path)
		}
		c.Printers[name] = p
	}
}
