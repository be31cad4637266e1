package sandbox

import "time"

// query implements alipay.acquire.overseas.query. alipay_trans_id is
// looked up first when both ids are sent (reference §7.1).
func (s *Server) query(g *gatewayRequest, now time.Time) (reply, *rejection) {
	pid, aid := g.get("partner_trans_id"), g.get("alipay_trans_id")
	if pid == "" && aid == "" {
		return reply{}, reject(ErrIllegalArgument, "missing parameter partner_trans_id or alipay_trans_id")
	}
	t := s.lookup(aid, pid)
	if t == nil {
		f := map[string]string{"result_code": "FAIL", "error": CodeTradeNotExist}
		setIfNotEmpty(f, "partner_trans_id", pid)
		setIfNotEmpty(f, "alipay_trans_id", aid)
		return reply{fields: f}, nil
	}
	t.Calls.Query++
	s.st.touchLater(t) // saved with the next change or Close, not on its own
	if t.Scenario == ScenarioConfirmQueryErrors && t.Calls.Query <= scenarioErrorCalls {
		return systemErrorReply(g), nil
	}
	f := tradeFields(t, t.at(now))
	f["result_code"] = "SUCCESS"
	return reply{fields: f}, nil
}

// lookup finds a trade by Alipay id first, else by partner_trans_id.
func (s *Server) lookup(alipayID, partnerTransID string) *tradeRecord {
	if alipayID != "" {
		if t, ok := s.st.byAlipayID[alipayID]; ok && t.Partner == s.cfg.Partner {
			return t
		}
		return nil
	}
	return s.st.trades[tradeKey(s.cfg.Partner, partnerTransID)]
}

func setIfNotEmpty(f map[string]string, k, v string) {
	if v != "" {
		f[k] = v
	}
}
