package sandbox

import "net/http"

// handleTrades serves GET /sandbox/trades: every trade as JSON.
func (s *Server) handleTrades(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Trades())
}
