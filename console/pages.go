package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/recon/parse"
)

// pageNames are the templates in templates/ besides layout.html.
var pageNames = []string{"health", "lanes", "devices", "testresult", "queue", "op", "receipt",
	"reconcile", "validation", "gateway", "bundle", "loggedout", "error"}

// parsePages parses every page with the layout.
func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"money": money,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"upper": strings.ToUpper,
	"minor": func(amount int64, cur string) string {
		if cur == "" {
			return ""
		}
		return parse.FormatMinor(amount, cur) + " " + cur
	},
}

// zeroDecimal are the currencies without minor units among Alipay's.
var zeroDecimal = map[string]bool{"JPY": true, "KRW": true}

// money formats an amount in minor units.
func money(amount int64, cur string) string {
	if zeroDecimal[cur] {
		return fmt.Sprintf("%d %s", amount, cur)
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, amount/100, amount%100, cur)
}

// view is what every page template gets.
type view struct {
	Page  string
	Title string
	CSRF  string
	Data  any
}

// route is one page or action.
type route struct {
	pattern string
	handle  pageHandler
}

// routes lists every page and action behind the login.
func (s *Server) routes() []route {
	return []route{
		{"GET /{$}", s.handleHealth},
		{"GET /lanes", s.handleLanes},
		{"GET /devices", s.handleDevices},
		{"POST /devices/print-test", s.handlePrintTest},
		{"POST /devices/scan-test", s.handleScanTest},
		{"GET /queue", s.handleQueue},
		{"GET /queue/{id}", s.handleOp},
		{"POST /queue/{id}/resolve", s.handleResolve},
		{"GET /receipt", s.handleReceipt},
		{"GET /receipt.png", s.handleReceiptPNG},
		{"GET /reconcile", s.handleReconcile},
		{"GET /validation", s.handleValidation},
		{"GET /validation/{name}", s.handleValidationFile},
		{"GET /gateway", s.handleGateway},
		{"POST /gateway/check", s.handleGatewayCheck},
		{"GET /bundle", s.handleBundlePage},
		{"POST /bundle", s.handleBundle},
		{"GET /events", s.handleEvents},
		{"POST /logout", s.handleLogout},
	}
}

// titles are the pages' titles.
var titles = map[string]string{"health": "Health", "lanes": "Lanes", "devices": "Devices",
	"testresult": "Device test", "queue": "Queue", "op": "Operation", "receipt": "Receipt",
	"reconcile": "Reconciliation", "validation": "Validation reports", "gateway": "Gateway check",
	"bundle": "Support bundle", "loggedout": "Log in", "error": "Error"}

// render executes a page into a buffer first, so a template error never
// sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, sess *session, page string, data any) {
	v := view{Page: page, Title: titles[page], Data: data}
	if sess != nil {
		v.CSRF = sess.csrf
	}
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error().Err(err).Str("page", page).Msg("console page failed")
		http.Error(w, "internal error (see the daemon's log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

// fail shows an error page with the control API's stable code.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	var ce *control.Error
	if !errors.As(err, &ce) {
		s.log.Error().Err(err).Str("path", r.URL.Path).Msg("console request failed")
		ce = control.Errorf(control.CodeInternal, "internal error (see the daemon's log)")
	}
	w.WriteHeader(statusOf(ce.Code))
	s.render(w, r, sess, "error", ce)
}

// statusOf maps a control error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case control.CodeNotFound:
		return http.StatusNotFound
	case control.CodeInvalid:
		return http.StatusBadRequest
	case control.CodeState, control.CodeBusy:
		return http.StatusConflict
	case control.CodeStarting, control.CodeUnavailable:
		return http.StatusServiceUnavailable
	case control.CodeUnsupported:
		return http.StatusNotImplemented
	case control.CodeTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request, sess *session) {
	snap, err := s.api.Status(r.Context())
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "health", snap)
}

// laneRow is one lane with its last operation.
type laneRow struct {
	control.LaneStatus
	Last *control.OpView
}

func (s *Server) handleLanes(w http.ResponseWriter, r *http.Request, sess *session) {
	snap, err := s.api.Status(r.Context())
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	rows := make([]laneRow, 0, len(snap.Lanes))
	for _, l := range snap.Lanes {
		row := laneRow{LaneStatus: l}
		if ops, err := s.api.Queue(r.Context(), "", l.ID, 1); err == nil && len(ops) > 0 {
			row.Last = &ops[0]
		}
		rows = append(rows, row)
	}
	s.render(w, r, sess, "lanes", rows)
}

// queueData is the queue page's data.
type queueData struct {
	State  string
	Manual []control.OpView
	Recent []control.OpView
}

func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request, sess *session) {
	state := r.URL.Query().Get("state")
	manual, err := s.api.Queue(r.Context(), "manual", "", 200)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	recent, err := s.api.Queue(r.Context(), state, "", 50)
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "queue", queueData{State: state, Manual: manual, Recent: recent})
}

// opData is the operation page's data.
type opData struct {
	control.OpDetail
	Manual   bool
	Choices  []string
	Resolved bool
}

func (s *Server) handleOp(w http.ResponseWriter, r *http.Request, sess *session) {
	d, err := s.api.Operation(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, sess, err)
		return
	}
	s.render(w, r, sess, "op", newOpData(d, r.URL.Query().Get("done") == "resolved"))
}

func newOpData(d control.OpDetail, resolved bool) opData {
	o := opData{OpDetail: d, Manual: d.Op.State == "manual", Resolved: resolved}
	if d.Op.Kind == "refund" {
		o.Choices = []string{"refunded", "declined"}
	} else {
		o.Choices = []string{"paid", "declined", "cancelled", "voided"}
	}
	return o
}

func (s *Server) handleResolve(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	req := control.ResolveRequest{State: r.PostFormValue("state"), Reason: strings.TrimSpace(r.PostFormValue("reason")),
		Operator: strings.TrimSpace(r.PostFormValue("operator"))}
	switch {
	case req.Reason == "":
		s.fail(w, r, sess, control.Errorf(control.CodeInvalid, "a reason is required: say what you checked (e.g. the Alipay merchant portal shows the trade paid)"))
		return
	case req.Operator == "":
		s.fail(w, r, sess, control.Errorf(control.CodeInvalid, "your name is required: it is journaled with the resolution"))
		return
	}
	req.Operator = "console:" + req.Operator
	if _, err := s.api.Resolve(r.Context(), id, req); err != nil {
		s.fail(w, r, sess, err)
		return
	}
	http.Redirect(w, r, "/queue/"+id+"?done=resolved", http.StatusSeeOther)
}
