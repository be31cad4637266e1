package control

import (
	"context"
	"encoding/json"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Control server limits.
const (
	shutdownWait = time.Second
	headerWait   = 10 * time.Second
	maxBodyBytes = 64 << 10
	// trailerError carries an error that happened after a stream began.
	trailerError = "X-Tillbridge-Error"
)

// Options tune Serve. The zero value is ready for use.
type Options struct {
	// Logger receives one line per request and every internal error.
	Logger zerolog.Logger
	// ErrorLog receives the HTTP server's own complaints (malformed
	// requests, accept errors); nil means the log package's standard
	// logger.
	ErrorLog *log.Logger
	// Local, when not nil, is the in-process API a console uses: Serve
	// answers with it and feeds its gateway health, so both give the same
	// verdicts.
	Local *Local
}

// Serve serves the control API on ln until ctx ends, then closes
// ln and returns nil (after at most a second for requests in flight;
// streams and scan tests see ctx end). It returns early only when ln
// fails. The caller opens ln (see Listen).
func Serve(ctx context.Context, ln net.Listener, b Backend, o Options) error {
	s := &server{b: b, log: o.Logger.With().Str("component", "control").Logger()}
	if o.Local != nil {
		s = o.Local.s
	}
	hs := &http.Server{Handler: s.routes(), ReadHeaderTimeout: headerWait,
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    o.ErrorLog}
	var wg sync.WaitGroup
	wg.Add(1)
	since := time.Now()
	go func() {
		defer wg.Done()
		s.gw.watch(ctx, b, since)
	}()
	defer wg.Wait()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownWait)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return nil
}

// server holds the handlers' shared state.
type server struct {
	b   Backend
	log zerolog.Logger
	gw  gatewayTracker
}

// route is one endpoint: a net/http pattern ("METHOD /path") and its
// handler.
type route struct {
	pattern string
	handle  http.HandlerFunc
}

// endpoints lists every endpoint (see the package doc). A new endpoint is
// one more row here and its handler.
func (s *server) endpoints() []route {
	return []route{
		{"GET /v1/status", s.handleStatus},
		{"GET /v1/devices", s.handleDevices},
		{"POST /v1/print-test", s.handlePrintTest},
		{"POST /v1/scan-test", s.handleScanTest},
		{"POST /v1/gateway-check", s.handleGatewayCheck},
		{"GET /v1/queue", s.handleQueueList},
		{"GET /v1/queue/{id}", s.handleQueueShow},
		{"POST /v1/queue/{id}/retry", s.handleQueueRetry},
		{"POST /v1/queue/{id}/resolve", s.handleQueueResolve},
		{"GET /v1/journal/export", s.handleExport},
		{"GET /v1/support-bundle", s.handleBundle},
		{"GET /v1/receipt", s.handleReceipt},
		{"GET /v1/reconcile", s.handleReconcile},
		{"POST /v1/console/token", s.handleConsoleToken},
	}
}

// routes maps every endpoint, and answers anything else not_found.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.endpoints() {
		mux.HandleFunc(r.pattern, r.handle)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeErr(w, r, Errorf(CodeNotFound, "no endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// snapshot is the backend's snapshot with the gateway health and verdict.
func (s *server) snapshot(ctx context.Context) (StatusSnapshot, error) {
	snap, err := s.b.Snapshot(ctx)
	if err != nil {
		return snap, err
	}
	snap.Gateway = s.gw.health(snap.Gateway)
	judge(&snap)
	return snap, nil
}

func (s *server) handleStatus(w http.ResponseWriter, r *http.Request) {
	snap, err := s.snapshot(r.Context())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

func (s *server) handleDevices(w http.ResponseWriter, r *http.Request) {
	rep, err := s.b.Devices(r.Context())
	s.reply(w, r, rep, err)
}

func (s *server) handlePrintTest(w http.ResponseWriter, r *http.Request) {
	s.log.Info().Str("lane", r.URL.Query().Get("lane")).Msg("print test requested")
	res, err := s.b.PrintTest(r.Context(), r.URL.Query().Get("lane"))
	s.reply(w, r, res, err)
}

func (s *server) handleScanTest(w http.ResponseWriter, r *http.Request) {
	timeout := DefaultScanTestTimeout
	if v := r.URL.Query().Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > MaxScanTestTimeout {
			s.writeErr(w, r, Errorf(CodeInvalid, "timeout %q: a duration up to %s", v, MaxScanTestTimeout))
			return
		}
		timeout = d
	}
	lane := r.URL.Query().Get("lane")
	s.log.Info().Str("lane", lane).Dur("timeout", timeout).Msg("scan test requested")
	res, err := s.b.ScanTest(r.Context(), lane, timeout)
	s.reply(w, r, res, err)
}

func (s *server) handleGatewayCheck(w http.ResponseWriter, r *http.Request) {
	res, err := s.b.GatewayCheck(r.Context())
	if err == nil {
		s.gw.checked(res)
		s.log.Info().Str("verdict", res.Verdict).Str("code", res.Code).Int64("latency_ms", res.LatencyMS).
			Int64("clock_skew_ms", res.ClockSkewMS).Msg("gateway check")
	}
	s.reply(w, r, res, err)
}

func (s *server) handleReceipt(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res, err := s.b.SaleReceipt(r.Context(), q.Get("lane"), q.Get("ref"))
	s.reply(w, r, res, err)
}

// reply writes v, or err as a Error.
func (s *server) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeErr answers err with its HTTP status and a JSON body; internal
// errors are logged with their detail, which never reaches the client.
func (s *server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	ce := asError(err)
	if ce.Code == CodeInternal {
		s.log.Error().Err(err).Str("path", r.URL.Path).Msg("control request failed")
	}
	writeJSON(w, httpStatus(ce.Code), ce)
}

// httpStatus maps a control error code to its HTTP status.
func httpStatus(code string) int {
	switch code {
	case CodeNotFound:
		return http.StatusNotFound
	case CodeInvalid:
		return http.StatusBadRequest
	case CodeState, CodeBusy:
		return http.StatusConflict
	case CodeStarting, CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeUnsupported:
		return http.StatusNotImplemented
	case CodeTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // a client that hung up is not our problem
}

// decodeBody strictly decodes a small JSON request body into v.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(CodeInvalid, "request body: %v", err)
	}
	return nil
}

// queryTime parses an optional RFC 3339 query parameter.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, Errorf(CodeInvalid, "%s %q: want an RFC 3339 time", name, v)
	}
	return t, nil
}

// queryInt parses an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, Errorf(CodeInvalid, "%s %q: want a non-negative number", name, v)
	}
	return n, nil
}

// streamError records an error that happened after a stream began in an
// HTTP trailer, which the client checks once the body has been read.
func streamError(w http.ResponseWriter, err error) {
	if err != nil {
		w.Header().Set(http.TrailerPrefix+trailerError, strings.Join(strings.Fields(err.Error()), " "))
	}
}
