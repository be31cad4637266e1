package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// FaultKind names a gateway-wide fault.
type FaultKind string

// The gateway-wide faults. They affect /gateway.do only, never /sandbox/.
const (
	// FaultDown closes every gateway connection without an answer.
	FaultDown FaultKind = "down"
	// FaultSlow delays every gateway call by Fault.Delay.
	FaultSlow FaultKind = "slow"
	// FaultSystemError answers every authenticated gateway call with
	// SYSTEM_ERROR (signed, is_success=T), creating or changing no trade.
	FaultSystemError FaultKind = "system_error"
)

// Fault is a gateway-wide fault to switch on.
type Fault struct {
	// Kind selects the fault.
	Kind FaultKind
	// For is how long the fault lasts, on Config.Clock; 0 means until
	// cleared.
	For time.Duration
	// Delay is the added latency of FaultSlow.
	Delay time.Duration
}

// FaultStatus describes an active fault.
type FaultStatus struct {
	Kind  FaultKind  `json:"kind"`
	Until *time.Time `json:"until,omitempty"`
	Delay string     `json:"delay,omitempty"`
}

// FaultError reports an invalid Fault.
type FaultError struct {
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *FaultError) Error() string { return "sandbox: fault: " + e.Reason }

// activeFault is a fault as stored: zero until means no end.
type activeFault struct {
	until time.Time
	delay time.Duration
}

// faultState is what the gateway must do for one request.
type faultState struct {
	down, systemError bool
	slow              time.Duration
}

// SetFault switches a fault on, replacing an active fault of the same kind.
func (s *Server) SetFault(f Fault) error {
	switch {
	case f.Kind != FaultDown && f.Kind != FaultSlow && f.Kind != FaultSystemError:
		return &FaultError{fmt.Sprintf("unknown kind %q (want down, slow or system_error)", f.Kind)}
	case f.For < 0 || f.Delay < 0:
		return &FaultError{"negative duration"}
	case f.Kind == FaultSlow && f.Delay == 0:
		return &FaultError{"slow needs a delay"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := activeFault{delay: f.Delay}
	if f.For > 0 {
		a.until = s.now().Add(f.For)
	}
	s.faults[f.Kind] = a
	return nil
}

// ClearFaults switches every fault off.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// Faults lists the active faults, by kind.
func (s *Server) Faults() []FaultStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneFaults()
	out := make([]FaultStatus, 0, len(s.faults))
	for k, a := range s.faults {
		fs := FaultStatus{Kind: k}
		if !a.until.IsZero() {
			u := a.until
			fs.Until = &u
		}
		if a.delay > 0 {
			fs.Delay = a.delay.String()
		}
		out = append(out, fs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// activeFaults returns what the active faults ask of a gateway request.
func (s *Server) activeFaults() faultState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneFaults()
	_, down := s.faults[FaultDown]
	_, sysErr := s.faults[FaultSystemError]
	return faultState{down: down, systemError: sysErr, slow: s.faults[FaultSlow].delay}
}

// pruneFaults forgets the faults whose time is over. Callers hold s.mu.
func (s *Server) pruneFaults() {
	now := s.now()
	for k, a := range s.faults {
		if !a.until.IsZero() && !now.Before(a.until) {
			delete(s.faults, k)
		}
	}
}

// faultRequest is the JSON body of POST /sandbox/faults.
type faultRequest struct {
	Kind  FaultKind `json:"kind"`
	For   string    `json:"for"`
	Delay string    `json:"delay"`
}

// handleSetFault serves POST /sandbox/faults.
func (s *Server) handleSetFault(w http.ResponseWriter, r *http.Request) {
	var req faultRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSONError(w, http.StatusBadRequest, fmt.Errorf("fault: bad JSON: %w", err))
		return
	}
	f := Fault{Kind: req.Kind}
	var err error
	if f.For, err = parseOptionalDuration(req.For); err == nil {
		f.Delay, err = parseOptionalDuration(req.Delay)
	}
	if err == nil {
		err = s.SetFault(f)
	}
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, s.Faults())
}

// handleClearFaults serves DELETE /sandbox/faults.
func (s *Server) handleClearFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	writeJSON(w, http.StatusOK, s.Faults())
}

// handleGetFaults serves GET /sandbox/faults.
func (s *Server) handleGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

func parseOptionalDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &FaultError{fmt.Sprintf("bad duration %q", s)}
	}
	return d, nil
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeJSONError answers {"error": "..."} with status.
func writeJSONError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
