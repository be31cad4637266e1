// Package fetch gets Alipay's reconciliation files — from a folder (a
// portal download, a mounted share) or by SFTP with the host key pinned —
// and archives every downloaded file in the data directory with its
// SHA-256, because Alipay deletes them after about 7 days.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/recon/parse"
)

// ErrNotYet reports a file that is not there (yet): Alipay writes the
// files of day T between 09:00 and 10:00 on T+1. It wraps fs.ErrNotExist.
var ErrNotYet = fmt.Errorf("fetch: file not there yet: %w", fs.ErrNotExist)

// Source is where the files come from.
type Source interface {
	// Get returns the whole content of the named file, or an error
	// wrapping ErrNotYet when it does not exist.
	Get(ctx context.Context, name string) ([]byte, error)
	// Close releases the source.
	Close() error
}

// Dir is a folder Source.
type Dir struct {
	// Path is the folder.
	Path string
}

// Get reads Path/name.
func (d Dir) Get(_ context.Context, name string) ([]byte, error) {
	if name != filepath.Base(name) {
		return nil, fmt.Errorf("fetch: bad file name %q", name)
	}
	b, err := os.ReadFile(filepath.Join(d.Path, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotYet, filepath.Join(d.Path, name))
	}
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return b, nil
}

// Close does nothing.
func (Dir) Close() error { return nil }

// Names are the candidate file names of a day's files, in the order they
// are tried: Alipay's .txt, then .txt.gz and .zip.
func Names(partner, kind string, day time.Time) []string {
	base := fmt.Sprintf("%s_%s_%s", partner, kind, day.Format("20060102"))
	return []string{base + ".txt", base + ".txt.gz", base + ".zip"}
}

// Archived is a file fetched and stored in the archive.
type Archived struct {
	Name   string
	Path   string
	SHA256 string
	Size   int64
}

// Archive stores data as dir/name (written whole, then renamed) unless an
// identical file is there; a different file of the same name (Alipay
// regenerated it) is kept too, as name.<first 12 hex of its SHA-256>.
func Archive(dir, name string, data []byte) (Archived, error) {
	sum := sha256.Sum256(data)
	a := Archived{Name: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return a, fmt.Errorf("fetch: archive: %w", err)
	}
	a.Path = filepath.Join(dir, name)
	if old, err := os.ReadFile(a.Path); err == nil {
		osum := sha256.Sum256(old)
		if osum == sum {
			return a, nil
		}
		a.Path = filepath.Join(dir, name+"."+a.SHA256[:12])
	}
	tmp, err := os.CreateTemp(dir, ".fetch-*")
	if err != nil {
		return a, fmt.Errorf("fetch: archive: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return a, fmt.Errorf("fetch: archive %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return a, fmt.Errorf("fetch: archive %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return a, fmt.Errorf("fetch: archive %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), a.Path); err != nil {
		return a, fmt.Errorf("fetch: archive %s: %w", name, err)
	}
	return a, nil
}

// Day fetches one kind of file ("transaction" or "settlement") of a day
// from src, trying each of Names, and archives it under archiveDir. The
// error wraps ErrNotYet when no candidate exists.
func Day(ctx context.Context, src Source, archiveDir, partner, kind string, day time.Time) (Archived, error) {
	var firstErr error
	for _, n := range Names(partner, kind, day.In(parse.Beijing())) {
		b, err := src.Get(ctx, n)
		if err == nil {
			return Archive(archiveDir, n, b)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return Archived{}, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return Archived{}, firstErr
}

// readSecret reads a password or key file, refusing one that others may
// read (a 0600 file is required on Unix) and trimming the final newline.
func readSecret(file string) ([]byte, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && os.PathSeparator == '/' {
		return nil, &PermError{File: file, Mode: perm}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return []byte(strings.TrimRight(string(b), "\r\n")), nil
}

// PermError reports a secret file others may read.
type PermError struct {
	File string
	Mode fs.FileMode
}

// Error implements error.
func (e *PermError) Error() string {
	return fmt.Sprintf("fetch: %s has mode %04o; a password or key file must be 0600 (chmod 600 %s)", e.File, e.Mode, e.File)
}
