package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
)

func bundleCommand() command {
	return command{name: "support-bundle", summary: "write a redacted support bundle (zip) for the vendor's support",
		run: runBundle}
}

const bundleUsage = `usage: tillbridge support-bundle [--config FILE | --data DIR | --socket ADDR] FILE.zip

Writes a zip for support: versions, the status snapshot, the configuration
with inline keys replaced by [REDACTED], the device list, a gateway check,
journal statistics with the open and MANUAL operations, the service manager's
view and the most recent log lines. It never holds keys, signatures or full
customer codes: every file passes a filter that replaces the configured keys
and masks any 16-24 digit run to its last four digits.

When the daemon is not running the bundle is made here from the
configuration file, the log file and local discovery (no journal statistics
or gateway check); the output says so. Run it as root (or the service
account) so the log file and key files can be read for redaction.

Exit codes: 0 written; 1 failed; 2 bad flags.

Examples:
  sudo tillbridge support-bundle /tmp/till-07.zip
`

func runBundle(ctx context.Context, cio cmdIO, args []string) error {
	var f ctlFlags
	fs := newCtlFlagSet("support-bundle", bundleUsage, cio, &f)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !strings.HasSuffix(strings.ToLower(pos[0]), ".zip") {
		return usageErr(errors.New("give the bundle's file name, ending in .zip"))
	}
	out := pos[0]
	cl, cfg := f.client()
	defer cl.Close()
	cctx, cancel := ctlContext(ctx, 2*time.Minute)
	defer cancel()
	var zipped bytes.Buffer
	err = cl.SupportBundle(cctx, &zipped)
	var nr *control.NotRunningError
	if errors.As(err, &nr) {
		fmt.Fprintf(cio.stderr, "the daemon is not running (no control socket at %s): making the bundle here, "+
			"without journal statistics or a gateway check\n", nr.Addr)
		zipped.Reset()
		err = control.WriteSupportBundle(cctx, &zipped, daemon.OfflineBackend(cfg, versionString()))
	}
	if err != nil {
		return ctlErr(err)
	}
	svc, _ := json.MarshalIndent(serviceView(ctx), "", "  ")
	if err := writeFileVia(out, 0o600, func(w io.Writer) error {
		return addToZip(w, zipped.Bytes(), "service.json", append(svc, '\n'))
	}); err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("write %s: %w", out, err)}
	}
	fmt.Fprintf(cio.stdout, "wrote %s: keys and customer codes redacted; send it to support\n", out)
	return nil
}

// addToZip copies the zip in src to w with one more file.
func addToZip(w io.Writer, src []byte, name string, data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		return fmt.Errorf("read bundle: %w", err)
	}
	zw := zip.NewWriter(w)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			return err
		}
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return err
	}
	if _, err := fw.Write(data); err != nil {
		return err
	}
	return zw.Close()
}
