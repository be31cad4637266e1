package console

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/devices/escpos"
	"github.com/tillbridge/tillbridge/devices/preview"
	"github.com/tillbridge/tillbridge/devices/receipt"
	"github.com/tillbridge/tillbridge/recon"
)

func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request, sess *session) {
	rep, err := s.api.Devices(r.Context())
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	snap, err := s.api.Status(r.Context())
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "devices", map[string]any{"Report": rep, "Lanes": snap.Lanes})
}

// testResult is the device test page's data.
type testResult struct {
	Print *control.PrintTestResult
	Scan  *control.ScanTestResult
}

func (s *Server) handlePrintTest(w http.ResponseWriter, r *http.Request, sess *session) {
	res, err := s.api.PrintTest(r.Context(), r.PostFormValue("lane"))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "testresult", testResult{Print: &res})
}

func (s *Server) handleScanTest(w http.ResponseWriter, r *http.Request, sess *session) {
	res, err := s.api.ScanTest(r.Context(), r.PostFormValue("lane"))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "testresult", testResult{Scan: &res})
}

func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	data := map[string]any{"Lane": q.Get("lane"), "Ref": q.Get("ref")}
	if q.Get("ref") != "" {
		sr, err := s.api.SaleReceipt(r.Context(), q.Get("lane"), q.Get("ref"))
		if err != nil {
			s.fail(w, r, sess, err)
			return
		}
		data["Receipt"] = sr
		data["Text"] = receiptText(sr)
	}
	s.render(w, r, sess, "receipt", data)
}

// decodeReceipt lays out a sale's receipt as the lane's printer prints it,
// as `tillbridge receipt preview --sale` does.
func decodeReceipt(sr control.SaleReceipt) (preview.Document, escpos.Profile) {
	prof := sr.Profile
	if prof.Validate() != nil {
		if p, err := escpos.LookupProfile("generic-80"); err == nil {
			prof = p
		}
	}
	job := receipt.Render(prof, sr.Receipt)
	return preview.Decode(job, preview.Options{Chinese: prof.Encoding == escpos.GB18030}), prof
}

// receiptText is the receipt as text (the image's alt text and a copy).
func receiptText(sr control.SaleReceipt) string {
	doc, prof := decodeReceipt(sr)
	return preview.Text(doc, prof.Columns)
}

func (s *Server) handleReceiptPNG(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	sr, err := s.api.SaleReceipt(r.Context(), q.Get("lane"), q.Get("ref"))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	doc, prof := decodeReceipt(sr)
	var buf bytes.Buffer
	if err := preview.WritePNG(&buf, doc, preview.RenderOptions{WidthDots: prof.WidthDots}); err != nil {
		s.fail(w, r, sess, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = buf.WriteTo(w)
}

// reconData is the Recon page's data.
type reconData struct {
	Job        *recon.JobStatus
	Exceptions []recon.Exception
	All        bool
	// ExcErr says why the exceptions could not be read; NoDB that there
	// is no recon database yet.
	ExcErr string
	NoDB   bool
}

// handleReconcile shows the daily job's latest result and the open (or,
// with ?all=1, all) exceptions of the recon database, read-only: they are
// resolved with `tillbridge reconcile resolve`.
func (s *Server) handleReconcile(w http.ResponseWriter, r *http.Request, sess *session) {
	d := reconData{Job: s.api.Reconcile(), All: r.URL.Query().Get("all") == "1"}
	switch _, err := os.Stat(s.opts.ReconDB); {
	case s.opts.ReconDB == "" || errors.Is(err, fs.ErrNotExist):
		d.NoDB = true
	default:
		st, err := recon.OpenStore(r.Context(), s.opts.ReconDB)
		if err == nil {
			d.Exceptions, err = st.Exceptions(r.Context(), recon.Filter{All: d.All})
			st.Close()
		}
		if err != nil {
			s.log.Error().Err(err).Msg("console: recon exceptions")
			d.ExcErr = "the reconciliation database could not be read (see the daemon's log)"
		}
	}
	s.render(w, r, sess, "reconcile", d)
}

// report is one file of a validation report folder.
type report struct {
	Name     string
	Size     int64
	Modified time.Time
}

// reportExts are the files `tillbridge validate --out` writes that the
// console offers.
var reportExts = map[string]string{".txt": "text/plain; charset=utf-8", ".json": "application/json",
	".html": "text/html; charset=utf-8"}

func (s *Server) handleValidation(w http.ResponseWriter, r *http.Request, sess *session) {
	data := map[string]any{"Dir": s.cfg.ValidationDir}
	if s.cfg.ValidationDir != "" {
		var reports []report
		entries, err := os.ReadDir(s.cfg.ValidationDir)
		if err != nil {
			data["Error"] = "cannot read the folder: " + err.Error()
		}
		for _, e := range entries {
			if _, ok := reportExts[filepath.Ext(e.Name())]; !ok || !e.Type().IsRegular() {
				continue
			}
			if info, err := e.Info(); err == nil {
				reports = append(reports, report{Name: e.Name(), Size: info.Size(), Modified: info.ModTime()})
			}
		}
		sort.Slice(reports, func(i, j int) bool { return reports[i].Modified.After(reports[j].Modified) })
		data["Reports"] = reports
	}
	s.render(w, r, sess, "validation", data)
}

// handleValidationFile sends one report as a download: an HTML report is
// never rendered on the console's origin.
func (s *Server) handleValidationFile(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	ctype, ok := reportExts[filepath.Ext(name)]
	if s.cfg.ValidationDir == "" || !ok || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		s.fail(w, r, sess, control.Errorf(control.CodeNotFound, "no such report"))
		return
	}
	b, err := os.ReadFile(filepath.Join(s.cfg.ValidationDir, name))
	if err != nil {
		s.fail(w, r, sess, control.Errorf(control.CodeNotFound, "no such report"))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(b)
}

func (s *Server) handleGateway(w http.ResponseWriter, r *http.Request, sess *session) {
	s.render(w, r, sess, "gateway", nil)
}

func (s *Server) handleGatewayCheck(w http.ResponseWriter, r *http.Request, sess *session) {
	res, err := s.api.GatewayCheck(r.Context())
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "gateway", res)
}

func (s *Server) handleBundlePage(w http.ResponseWriter, r *http.Request, sess *session) {
	s.render(w, r, sess, "bundle", nil)
}

// handleBundle sends the redacted support bundle; it is built in memory
// first so a failure shows as an error page, not a broken zip.
func (s *Server) handleBundle(w http.ResponseWriter, r *http.Request, sess *session) {
	var buf bytes.Buffer
	if err := s.api.SupportBundle(r.Context(), &buf); err != nil {
		s.fail(w, r, sess, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="tillbridge-support-`+time.Now().Format("20060102-150405")+`.zip"`)
	_, _ = buf.WriteTo(w)
}
