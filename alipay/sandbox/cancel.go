package sandbox

import (
	"time"
)

// cancelBuffer is the grace period after the Beijing day cut-off during
// which a trade of the previous day can still be cancelled (reference §8.3).
const cancelBuffer = 15 * time.Minute

// cancel implements alipay.acquire.cancel: an unpaid trade is closed
// (action=close), a paid one refunded in full and closed (action=refund), a
// trade never created is a success; after the Beijing day of creation plus
// 15 minutes every cancel fails with retry_flag=N.
func (s *Server) cancel(g *gatewayRequest, now time.Time) (reply, *rejection) {
	if rej := g.require("out_trade_no", "timestamp", "_input_charset"); rej != nil {
		return reply{}, rej
	}
	if !validTimestamp(g.get("timestamp")) {
		return reply{}, reject(ErrIllegalArgument, "timestamp is neither epoch milliseconds nor yyyy-MM-dd HH:mm:ss")
	}
	f := map[string]string{"out_trade_no": g.get("out_trade_no")}
	setIfNotEmpty(f, "trade_no", g.get("trade_no"))
	t := s.lookup(g.get("trade_no"), g.get("out_trade_no"))
	if t == nil {
		f["result_code"] = "SUCCESS" // nothing to cancel: never created
		return reply{fields: f}, nil
	}
	t.Calls.Cancel++
	s.st.touch(t)
	if t.Scenario == ScenarioNeverConfirmCancelErrors && t.Calls.Cancel <= scenarioErrorCalls {
		return systemErrorReply(g), nil
	}
	f["out_trade_no"], f["trade_no"] = t.PartnerTransID, t.AlipayTransID
	if now.After(CancelDeadline(t.CreatedAt)) {
		f["result_code"], f["error"], f["retry_flag"] = "FAIL", CodeCancelTimeOut, "N"
		f["detail_error_code"], f["detail_error_des"] = CodeCancelTimeOut, "cancel window (Beijing day + 15 min) has passed; use refund"
		return reply{fields: f}, nil
	}
	if tl := t.at(now); !tl.closed() {
		t.CancelledAt = &now
	}
	f["result_code"], f["action"] = "SUCCESS", t.cancelAction(t.at(now))
	return reply{fields: f}, nil
}

// CancelDeadline is the last instant a trade created at created can be
// cancelled: the end of its Beijing (GMT+8) calendar day plus 15 minutes.
func CancelDeadline(created time.Time) time.Time {
	c := created.In(beijing())
	midnight := time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, beijing())
	return midnight.Add(cancelBuffer)
}

// validTimestamp accepts both forms of the cancel timestamp seen in the
// sources (reference §3): epoch milliseconds or yyyy-MM-dd HH:mm:ss.
func validTimestamp(s string) bool {
	if len(s) >= 10 && len(s) <= 16 && allDigits(s) {
		return true
	}
	_, err := time.Parse(time.DateTime, s)
	return err == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
