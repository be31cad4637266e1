package control

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/tillbridge/tillbridge/daemon/logging"
	"github.com/tillbridge/tillbridge/queue"
)

// Support bundle limits: each part is time-boxed, the log is cut to its
// most recent lines, and the operation lists are bounded.
const (
	bundlePartTimeout = 10 * time.Second
	bundleLogBytes    = 4 << 20
	bundleMaxOpen     = 200
	bundleMaxManual   = 50
)

// bundleReadme explains the bundle to whoever opens it.
const bundleReadme = `tillbridge support bundle
==========================

version.json            tillbridge, Go and OS versions
status.json             the status snapshot (tillbridge status --json)
config.redacted.toml    the running configuration; inline keys replaced by [REDACTED]
devices.json            configured devices with their state, and what discovery finds
gateway-check.json      a gateway check made while building the bundle
journal.json            journal file sizes, operations by state, open operations
manual-operations.json  operations in MANUAL, with their events
logs/                   the most recent lines of the daemon's log (and rotated logs)
errors.txt              parts that could not be collected (if any)

Every file passed a redaction filter: configured keys (MD5 key, private key
material, shared keys) are replaced by [REDACTED], and every 16-24 digit run
(a customer payment code) is masked to its last 4 digits. The journal never
stores full customer codes.
`

// handleBundle streams the support bundle as a zip.
func (s *server) handleBundle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="tillbridge-support.zip"`)
	s.log.Info().Msg("support bundle requested")
	streamError(w, s.writeBundle(r.Context(), w))
}

// WriteSupportBundle writes the support bundle of b as a zip to w, as the
// support-bundle endpoint does for the running daemon (the CLI uses it
// with an offline backend when the daemon is not running). Every file
// passes the redaction filter.
func WriteSupportBundle(ctx context.Context, w io.Writer, b Backend) error {
	s := &server{b: b, log: zerolog.Nop()}
	return s.writeBundle(ctx, w)
}

// bundle writes redacted files into a zip and notes what failed.
type bundle struct {
	zw   *zip.Writer
	red  *logging.Redactor
	info SupportInfo
	errs []string
}

// file adds one file, redacted.
func (b *bundle) file(name string, data []byte) error {
	w, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return fmt.Errorf("bundle %s: %w", name, err)
	}
	_, err = io.WriteString(w, b.red.Redact(string(data)))
	return err
}

// json adds v as indented JSON, or notes why it could not.
func (b *bundle) json(name string, v any, err error) error {
	if err != nil {
		b.errs = append(b.errs, name+": "+err.Error())
		return nil
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		b.errs = append(b.errs, name+": "+err.Error())
		return nil
	}
	return b.file(name, append(data, '\n'))
}

// writeBundle writes every part; a part that fails is listed in errors.txt.
func (s *server) writeBundle(ctx context.Context, w io.Writer) error {
	info := s.b.Support()
	b := &bundle{zw: zip.NewWriter(w), red: newBundleRedactor(info.Secrets), info: info}
	steps := []func(context.Context, *bundle) error{
		s.bundleStatus, s.bundleConfig, s.bundleDevices,
		s.bundleGateway, s.bundleJournal, s.bundleLogs,
	}
	for _, step := range steps {
		pctx, cancel := context.WithTimeout(ctx, bundlePartTimeout)
		err := step(pctx, b)
		cancel()
		if err != nil {
			return err
		}
	}
	if err := b.file("README.txt", []byte(bundleReadme)); err != nil {
		return err
	}
	if len(b.errs) > 0 {
		if err := b.file("errors.txt", []byte(strings.Join(b.errs, "\n")+"\n")); err != nil {
			return err
		}
	}
	return b.zw.Close()
}

// bundleStatus writes the status snapshot and the versions.
func (s *server) bundleStatus(ctx context.Context, b *bundle) error {
	snap, err := s.snapshot(ctx)
	if err := b.json("status.json", snap, err); err != nil {
		return err
	}
	return b.json("version.json", versions(snap.Version), nil)
}

// versions describes this build.
func versions(tillbridge string) map[string]string {
	v := map[string]string{"tillbridge": tillbridge, "go": runtime.Version(), "os": runtime.GOOS,
		"arch": runtime.GOARCH, "generated": time.Now().Format(time.RFC3339)}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v["module"] = bi.Main.Path + " " + bi.Main.Version
		for _, st := range bi.Settings {
			switch st.Key {
			case "vcs.revision", "vcs.time", "vcs.modified", "CGO_ENABLED", "-tags":
				v[st.Key] = st.Value
			}
		}
	}
	return v
}

func (s *server) bundleConfig(_ context.Context, b *bundle) error {
	if b.info.ConfigErr != nil || b.info.Config == nil {
		msg := "the configuration could not be read"
		if b.info.ConfigErr != nil {
			msg = b.info.ConfigErr.Error()
		}
		b.errs = append(b.errs, "config.redacted.toml: "+msg)
		return nil
	}
	return b.file("config.redacted.toml", b.info.Config)
}

func (s *server) bundleDevices(ctx context.Context, b *bundle) error {
	rep, err := s.b.Devices(ctx)
	return b.json("devices.json", rep, err)
}

func (s *server) bundleGateway(ctx context.Context, b *bundle) error {
	res, err := s.b.GatewayCheck(ctx)
	if err == nil {
		s.gw.checked(res)
	}
	return b.json("gateway-check.json", res, err)
}

// JournalStats is the journal part of a support bundle.
type JournalStats struct {
	File      string      `json:"file"`
	SizeBytes int64       `json:"size_bytes"`
	WALBytes  int64       `json:"wal_bytes"`
	Counts    QueueCounts `json:"counts"`
	Open      []OpView    `json:"open"`
}

func (s *server) bundleJournal(ctx context.Context, b *bundle) error {
	eng, err := s.b.Journal()
	if err != nil {
		return b.json("journal.json", nil, err)
	}
	st := JournalStats{File: b.info.JournalFile}
	st.SizeBytes, st.WALBytes = fileSize(st.File), fileSize(st.File+"-wal")
	counts, err := eng.Counts(ctx)
	if err == nil {
		st.Counts = NewQueueCounts(counts)
		st.Open, err = listViews(ctx, eng, queue.Filter{States: openStates(), Limit: bundleMaxOpen})
	}
	if err := b.json("journal.json", st, err); err != nil {
		return err
	}
	manual, err := manualDetails(ctx, eng)
	return b.json("manual-operations.json", manual, err)
}

// manualDetails reads the operations in MANUAL with their events.
func manualDetails(ctx context.Context, eng Journal) ([]OpDetail, error) {
	ops, err := eng.List(ctx, queue.Filter{States: []queue.State{queue.StateManual}, Limit: bundleMaxManual})
	if err != nil {
		return nil, err
	}
	out := make([]OpDetail, 0, len(ops))
	for _, o := range ops {
		d, err := opDetail(ctx, eng, o.ID)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

func listViews(ctx context.Context, eng Journal, f queue.Filter) ([]OpView, error) {
	ops, err := eng.List(ctx, f)
	out := make([]OpView, 0, len(ops))
	for _, o := range ops {
		out = append(out, newOpView(o))
	}
	return out, err
}

func openStates() []queue.State {
	var out []queue.State
	for _, st := range queue.States() {
		if !st.Final() {
			out = append(out, st)
		}
	}
	return out
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// bundleLogs adds the most recent log lines: the current file, then the
// newest rotated (uncompressed) files, within bundleLogBytes in all.
func (s *server) bundleLogs(_ context.Context, b *bundle) error {
	path := b.info.LogFile
	if path == "" {
		b.errs = append(b.errs, "logs: the daemon writes no log file (log_file is not set); "+
			"attach the service manager's log instead (journalctl -u tillbridge, or the Windows Event Log)")
		return nil
	}
	budget := int64(bundleLogBytes)
	for _, f := range append([]string{path}, rotatedLogs(path)...) {
		if budget <= 0 {
			break
		}
		data, err := tailFile(f, budget)
		if err != nil {
			b.errs = append(b.errs, "logs: "+err.Error())
			continue
		}
		budget -= int64(len(data))
		if err := b.file("logs/"+filepath.Base(f), data); err != nil {
			return err
		}
	}
	return nil
}

// rotatedLogs lists the rotated copies of the log file (NAME-TIME.log, as
// the rotation names them), newest first.
func rotatedLogs(path string) []string {
	ext := filepath.Ext(path)
	prefix := strings.TrimSuffix(filepath.Base(path), ext) + "-"
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasPrefix(n, prefix) && strings.HasSuffix(n, ext) {
			out = append(out, filepath.Join(filepath.Dir(path), n))
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// tailFile returns the last max bytes of the file, from a line start.
func tailFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-limit, 0)
	data := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(data, off); err != nil && err != io.EOF {
		return nil, err
	}
	if off > 0 {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return data, nil
}
