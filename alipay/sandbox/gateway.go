package sandbox

import (
	"context"
	"net/http"
	"time"
)

// serviceFunc runs one service on a verified request at now. It is called
// with s.mu held, and returns either a reply or a business-independent
// rejection (a missing or malformed parameter).
type serviceFunc func(s *Server, g *gatewayRequest, now time.Time) (reply, *rejection)

// services maps the service names to their implementations.
func (s *Server) services() map[string]serviceFunc {
	return map[string]serviceFunc{
		ServicePay:    (*Server).pay,
		ServiceQuery:  (*Server).query,
		ServiceCancel: (*Server).cancel,
		ServiceRefund: (*Server).refund,
	}
}

// handleGateway serves /gateway.do: faults first, then parsing and
// authentication, then the service.
func (s *Server) handleGateway(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	fault := s.activeFaults()
	if fault.down {
		dropConn(w)
		return
	}
	g, rej := s.readRequest(r)
	// Delay only once the body is read: from then on the server notices a
	// client that hangs up and cancels r.Context().
	if fault.slow > 0 && !sleep(r.Context(), fault.slow) {
		return
	}
	if rej == nil {
		rej = s.authenticate(g)
	}
	if rej != nil {
		s.cfg.Logger.Info("sandbox: rejected", "code", rej.code, "reason", rej.reason)
		writeRejection(w, rej)
		return
	}
	// The memory changes before the write: a caller hanging up must not
	// stop it half-way.
	rep, rej := s.serve(context.WithoutCancel(r.Context()), g, fault.systemError)
	if rej != nil {
		s.cfg.Logger.Info("sandbox: rejected", "service", g.service, "code", rej.code, "reason", rej.reason)
		writeRejection(w, rej)
		return
	}
	s.cfg.Logger.Info("sandbox: answered", "service", g.service, "result_code", rep.fields["result_code"],
		"error", rep.fields["error"], "partner_trans_id", g.get("partner_trans_id")+g.get("out_trade_no"))
	s.writeReply(w, r, g, rep)
}

// serve runs the service under the lock and writes the changed trades to
// the state file when a trade changed (query counters alone wait for the
// next change, to keep polling cheap). A system_error fault answers
// SYSTEM_ERROR without touching any trade; a failure to save also answers
// SYSTEM_ERROR (the change is kept in memory and written with the next
// save: like a real outage, it may or may not have happened).
func (s *Server) serve(ctx context.Context, g *gatewayRequest, systemError bool) (reply, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if systemError {
		return systemErrorReply(g), nil
	}
	rep, rej := s.services()[g.service](s, g, s.now())
	if rej != nil {
		return rep, rej
	}
	if !s.st.urgent {
		return rep, nil
	}
	if err := s.st.save(ctx); err != nil {
		s.cfg.Logger.Error("sandbox: save state", "err", err)
		return systemErrorReply(g), nil
	}
	return rep, nil
}

// systemErrorReply is a SYSTEM_ERROR answer in the vocabulary of the
// request's service (reference §5.3): UNKNOW for pay and refund, FAIL for
// query and cancel (with retry_flag=Y).
func systemErrorReply(g *gatewayRequest) reply {
	f := map[string]string{"error": CodeSystemError}
	switch g.service {
	case ServicePay, ServiceRefund:
		f["result_code"] = "UNKNOW"
	case ServiceCancel:
		f["result_code"], f["retry_flag"] = "FAIL", "Y"
	default:
		f["result_code"] = "FAIL"
	}
	for _, k := range []string{"partner_trans_id", "partner_refund_id", "alipay_trans_id", "out_trade_no", "trade_no"} {
		if v := g.get(k); v != "" {
			f[k] = v
		}
	}
	return reply{fields: f}
}
