package sandbox

import (
	"context"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
)

// Server is the simulated gateway. It is an http.Handler and safe for
// concurrent use. Create it with New and Close it to flush the state file.
type Server struct {
	cfg     Config
	signers map[alipay.SignType]alipay.Signer
	rates   map[string]*big.Rat
	mux     *http.ServeMux

	mu         sync.Mutex // guards st, faults and fileFaults
	st         *store
	faults     map[FaultKind]activeFault
	fileFaults []FileFault // mismatches planted in the reconciliation files
}

// New returns a Server for cfg, opening or creating Config.StateFile (and
// importing Config.ImportStateFile into a new one). It fails with a
// *ConfigError for an invalid Config and a *StateError for a state file
// that cannot be opened or read.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	signers, err := cfg.signers()
	if err != nil {
		return nil, err
	}
	rates, err := cfg.rates()
	if err != nil {
		return nil, err
	}
	st := newStore()
	if cfg.StateFile != "" {
		var imported int
		if st, imported, err = openState(context.Background(), cfg.StateFile, cfg.ImportStateFile, cfg.connectHook); err != nil {
			return nil, err
		}
		if imported > 0 {
			cfg.Logger.Info("sandbox: imported the JSON state file into the SQLite one; the JSON file is no longer used",
				"from", cfg.ImportStateFile, "to", cfg.StateFile, "trades", imported)
		}
	}
	s := &Server{cfg: cfg, signers: signers, rates: rates, st: st,
		faults: make(map[FaultKind]activeFault)}
	s.mux = s.routes()
	return s, nil
}

// routes builds the handler tree: the gateway and the /sandbox/ API.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/gateway.do", s.handleGateway)
	mux.HandleFunc("GET /sandbox/faults", s.handleGetFaults)
	mux.HandleFunc("POST /sandbox/faults", s.handleSetFault)
	mux.HandleFunc("DELETE /sandbox/faults", s.handleClearFaults)
	mux.HandleFunc("GET /sandbox/trades", s.handleTrades)
	mux.HandleFunc("GET /sandbox/files/transaction", s.handleTransactionFile)
	mux.HandleFunc("GET /sandbox/files/settlement", s.handleSettlementFile)
	s.fileFaultRoutes(mux)
	return mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Partner returns the partner ID the gateway accepts.
func (s *Server) Partner() string { return s.cfg.Partner }

// Close writes what is not yet in the state file (query counters) and
// closes it. The Server keeps answering afterwards, but a call that
// changes a trade then answers SYSTEM_ERROR (nothing can be saved); the
// ledger stays readable. Closing twice is harmless.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.close(context.Background())
}

// Trades returns every trade, in creation order, as it stands now.
func (s *Server) Trades() []Trade {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	recs := s.st.sorted()
	out := make([]Trade, 0, len(recs))
	for _, t := range recs {
		out = append(out, t.view(now))
	}
	return out
}

// Trade returns one trade by partner_trans_id (of the configured partner).
func (s *Server) Trade(partnerTransID string) (Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.trades[tradeKey(s.cfg.Partner, partnerTransID)]
	if !ok {
		return Trade{}, false
	}
	return t.view(s.now()), true
}

// now reads the configured clock.
func (s *Server) now() time.Time { return s.cfg.Clock() }
