package daemon

import (
	"context"
	"encoding/json"
	"log/slog"
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
	controlShutdown     = time.Second
	controlHeaderWait   = 10 * time.Second
	maxControlBodyBytes = 64 << 10
	// trailerError carries an error that happened after a stream began.
	trailerError = "X-Tillbridge-Error"
)

// ControlOptions tune ServeControl. The zero value is ready for use.
type ControlOptions struct {
	// Logger receives one line per request and every internal error.
	Logger zerolog.Logger
}

// ServeControl serves the control API on ln until ctx ends, then closes
// ln and returns nil (after at most a second for requests in flight;
// streams and scan tests see ctx end). It returns early only when ln
// fails. The caller opens ln (see ListenControl).
func ServeControl(ctx context.Context, ln net.Listener, b ControlBackend, o ControlOptions) error {
	s := &controlServer{b: b, log: o.Logger.With().Str("component", "control").Logger()}
	hs := &http.Server{Handler: s.routes(), ReadHeaderTimeout: controlHeaderWait,
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(slogFor(s.log, "control").Handler(), slog.LevelWarn)}
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
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), controlShutdown)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return nil
}

// controlServer holds the handlers' shared state.
type controlServer struct {
	b   ControlBackend
	log zerolog.Logger
	gw  gatewayTracker
}

// routes maps every endpoint (see control.go).
func (s *controlServer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	mux.HandleFunc("GET /v1/devices", s.handleDevices)
	mux.HandleFunc("POST /v1/print-test", s.handlePrintTest)
	mux.HandleFunc("POST /v1/scan-test", s.handleScanTest)
	mux.HandleFunc("POST /v1/gateway-check", s.handleGatewayCheck)
	mux.HandleFunc("GET /v1/queue", s.handleQueueList)
	mux.HandleFunc("GET /v1/queue/{id}", s.handleQueueShow)
	mux.HandleFunc("POST /v1/queue/{id}/retry", s.handleQueueRetry)
	mux.HandleFunc("POST /v1/queue/{id}/resolve", s.handleQueueResolve)
	mux.HandleFunc("GET /v1/journal/export", s.handleExport)
	mux.HandleFunc("GET /v1/support-bundle", s.handleBundle)
	mux.HandleFunc("GET /v1/receipt", s.handleReceipt)
	mux.HandleFunc("GET /v1/reconcile", s.handleReconcile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeErr(w, r, controlErrorf(CodeNotFound, "no endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// snapshot is the backend's snapshot with the gateway health and verdict.
func (s *controlServer) snapshot(ctx context.Context) (StatusSnapshot, error) {
	snap, err := s.b.Snapshot(ctx)
	if err != nil {
		return snap, err
	}
	snap.Gateway = s.gw.health(snap.Gateway)
	judge(&snap)
	return snap, nil
}

func (s *controlServer) handleStatus(w http.ResponseWriter, r *http.Request) {
	snap, err := s.snapshot(r.Context())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

func (s *controlServer) handleDevices(w http.ResponseWriter, r *http.Request) {
	rep, err := s.b.Devices(r.Context())
	s.reply(w, r, rep, err)
}

func (s *controlServer) handlePrintTest(w http.ResponseWriter, r *http.Request) {
	s.log.Info().Str("lane", r.URL.Query().Get("lane")).Msg("print test requested")
	res, err := s.b.PrintTest(r.Context(), r.URL.Query().Get("lane"))
	s.reply(w, r, res, err)
}

func (s *controlServer) handleScanTest(w http.ResponseWriter, r *http.Request) {
	timeout := DefaultScanTestTimeout
	if v := r.URL.Query().Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > MaxScanTestTimeout {
			s.writeErr(w, r, controlErrorf(CodeInvalid, "timeout %q: a duration up to %s", v, MaxScanTestTimeout))
			return
		}
		timeout = d
	}
	lane := r.URL.Query().Get("lane")
	s.log.Info().Str("lane", lane).Dur("timeout", timeout).Msg("scan test requested")
	res, err := s.b.ScanTest(r.Context(), lane, timeout)
	s.reply(w, r, res, err)
}

func (s *controlServer) handleGatewayCheck(w http.ResponseWriter, r *http.Request) {
	res, err := s.b.GatewayCheck(r.Context())
	if err == nil {
		s.gw.checked(res)
		s.log.Info().Str("verdict", res.Verdict).Str("code", res.Code).Int64("latency_ms", res.LatencyMS).
			Int64("clock_skew_ms", res.ClockSkewMS).Msg("gateway check")
	}
	s.reply(w, r, res, err)
}

// reply writes v, or err as a ControlError.
func (s *controlServer) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeErr answers err with its HTTP status and a JSON body; internal
// errors are logged with their detail, which never reaches the client.
func (s *controlServer) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	ce := asControlError(err)
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
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxControlBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return controlErrorf(CodeInvalid, "request body: %v", err)
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
		return t, controlErrorf(CodeInvalid, "%s %q: want an RFC 3339 time", name, v)
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
		return 0, controlErrorf(CodeInvalid, "%s %q: want a non-negative number", name, v)
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
