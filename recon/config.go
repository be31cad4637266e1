package recon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/recon/fetch"
	"github.com/tillbridge/tillbridge/recon/parse"
)

// Config is the [reconcile] table of the daemon's configuration
// (docs/reconciliation.md, docs/configuration.md).
type Config struct {
	// Enabled runs the daemon's daily job.
	Enabled bool `toml:"enabled"`
	// Source is where the files come from: "sftp" or "dir".
	Source string `toml:"source"`
	// Dir is the folder of the files for source "dir".
	Dir string `toml:"dir"`
	// SFTP is the server for source "sftp".
	SFTP fetch.SFTPConfig `toml:"sftp"`
	// At is the local time of day (in Zone) the daily job starts: "10:15"
	// (Alipay writes the files between 09:00 and 10:00 Beijing time).
	At string `toml:"at"`
	// Zone is the time zone of At and AlarmAt (default Asia/Shanghai).
	Zone string `toml:"zone"`
	// RetryEvery is how often the job tries again while the file is not
	// there (default 15m).
	RetryEvery time.Duration `toml:"retry_every"`
	// AlarmAt is the time of day (in Zone) after which a missing file is
	// an alarm: ERROR in the log and the status verdict (default "13:00").
	AlarmAt string `toml:"alarm_at"`
	// Journals are more journal files reconciled with the daemon's own
	// (copies from other tills of the partner).
	Journals []string `toml:"journals"`
	// OwnPrefixes are extra partner id prefixes of these tills.
	OwnPrefixes []string `toml:"own_prefixes"`
	// Charset of the files: "" (UTF-8 if valid, else GBK), UTF-8 or GBK.
	Charset string `toml:"charset"`
}

// ConfigError reports an invalid [reconcile] table.
type ConfigError struct {
	Key, Reason string
}

// Error implements error.
func (e *ConfigError) Error() string { return "reconcile." + e.Key + ": " + e.Reason }

// WithDefaults fills the empty fields.
func (c Config) WithDefaults() Config {
	if c.At == "" {
		c.At = "10:15"
	}
	if c.Zone == "" {
		c.Zone = "Asia/Shanghai"
	}
	if c.RetryEvery <= 0 {
		c.RetryEvery = 15 * time.Minute
	}
	if c.AlarmAt == "" {
		c.AlarmAt = "13:00"
	}
	return c
}

// Validate checks the table (after WithDefaults).
func (c Config) Validate() error {
	if _, err := clock(c.At); err != nil {
		return &ConfigError{"at", err.Error()}
	}
	if _, err := clock(c.AlarmAt); err != nil {
		return &ConfigError{"alarm_at", err.Error()}
	}
	if _, err := c.Location(); err != nil {
		return &ConfigError{"zone", err.Error()}
	}
	switch strings.ToUpper(c.Charset) {
	case "", "UTF-8", "GBK":
	default:
		return &ConfigError{"charset", fmt.Sprintf("%q is not UTF-8 or GBK", c.Charset)}
	}
	switch c.Source {
	case "":
		if c.Enabled {
			return &ConfigError{"source", "the daily job needs source = \"sftp\" or \"dir\""}
		}
	case "dir":
		if c.Dir == "" {
			return &ConfigError{"dir", "source \"dir\" needs dir"}
		}
	case "sftp":
		s := c.SFTP
		switch {
		case s.Addr == "" || s.User == "":
			return &ConfigError{"sftp", "needs addr and user"}
		case s.PasswordFile == "" && s.KeyFile == "":
			return &ConfigError{"sftp", "needs password_file or key_file"}
		case s.Fingerprint == "" && s.KnownHosts == "":
			return &ConfigError{"sftp", "the host key must be pinned: set host_key_fingerprint or known_hosts"}
		}
	default:
		return &ConfigError{"source", fmt.Sprintf("%q is not sftp or dir", c.Source)}
	}
	return nil
}

// Location returns Zone; Asia/Shanghai (and "GMT+8") work without the
// system's time zone database.
func (c Config) Location() (*time.Location, error) {
	z := c.Zone
	if z == "" {
		z = "Asia/Shanghai"
	}
	if l, err := time.LoadLocation(z); err == nil {
		return l, nil
	} else if z != "Asia/Shanghai" && z != "GMT+8" {
		return nil, err
	}
	return parse.Beijing(), nil
}

// clock parses "HH:MM" into a duration since midnight.
func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Open returns the configured Source.
func (c Config) Open(ctx context.Context) (fetch.Source, error) {
	switch c.Source {
	case "dir":
		return fetch.Dir{Path: c.Dir}, nil
	case "sftp":
		return fetch.DialSFTP(ctx, c.SFTP)
	}
	return nil, &ConfigError{"source", "no source configured (set [reconcile] source)"}
}

// Fetched is the files of a day, archived.
type Fetched struct {
	// Transaction is the transaction file of the day.
	Transaction fetch.Archived
	// Settlement is the settlement file of the same date: what Alipay
	// settled that day, for trades of earlier days ("" Path when there is
	// none; it is optional: no settlement on weekends and holidays).
	Settlement fetch.Archived
}

// FetchDay gets the day's transaction file (an error wrapping
// fetch.ErrNotYet when it is not there yet) and, when there, the
// settlement file of the same date (both are written on the next day
// between 09:00 and 10:00 Beijing time), archives them under
// dataDir/recon/files and records their SHA-256 in st (when set).
func FetchDay(ctx context.Context, c Config, partner, day, dataDir string, st *Store, now time.Time) (Fetched, error) {
	var f Fetched
	d, err := time.ParseInLocation(time.DateOnly, day, parse.Beijing())
	if err != nil {
		return f, fmt.Errorf("recon: day %q: %w", day, err)
	}
	src, err := c.Open(ctx)
	if err != nil {
		return f, err
	}
	defer src.Close()
	archive := filepath.Join(dataDir, "recon", "files")
	if f.Transaction, err = fetch.Day(ctx, src, archive, partner, "transaction", d); err != nil {
		return f, err
	}
	if f.Settlement, err = fetch.Day(ctx, src, archive, partner, "settlement", d); err != nil &&
		!errors.Is(err, os.ErrNotExist) {
		return f, err
	}
	if st != nil {
		for _, a := range []fetch.Archived{f.Transaction, f.Settlement} {
			if a.Path == "" {
				continue
			}
			if err := st.RecordFile(ctx, a.Name, a.SHA256, a.Size, a.Path, now); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}
