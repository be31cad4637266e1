package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tillbridge/tillbridge/alipay"
)

// Business error codes the sandbox answers inside response/alipay.
const (
	CodeSystemError     = "SYSTEM_ERROR"
	CodeBuyerNotMatch   = "TRADE_BUYER_NOT_MATCH"
	CodeTradeHasClose   = "TRADE_HAS_CLOSE"
	CodeTradeNotExist   = "TRADE_NOT_EXIST"
	CodeTradeStatus     = "TRADE_STATUS_ERROR"
	CodeReturnExceed    = "RETURN_AMOUNT_EXCEED"
	CodeCancelTimeOut   = "TRADE_CANCEL_TIME_OUT"
	CodeInvalidParam    = "INVALID_PARAMETER"
	CodeBalance         = "BUYER_BALANCE_NOT_ENOUGH"
	CodeBuyerNotExist   = "BUYER_NOT_EXIST"
	bizProductBarcode   = "OVERSEAS_MBARCODE_PAY"
	identityTypeBarcode = "barcode"
)

// payRequest is a validated spot.pay request.
type payRequest struct {
	transID, buyerCode, currency, rate string
	amount                             int64
	merchant                           Merchant
}

// pay implements alipay.acquire.overseas.spot.pay: the re-pay table for a
// known partner_trans_id, the scenario of the buyer code otherwise.
func (s *Server) pay(g *gatewayRequest, now time.Time) (reply, *rejection) {
	p, rej := s.parsePay(g)
	if rej != nil {
		return reply{}, rej
	}
	if t, ok := s.st.trades[tradeKey(s.cfg.Partner, p.transID)]; ok {
		s.st.touch(t) // the pay counter
		return repay(t, p, now), nil
	}
	sc := ScenarioOf(p.buyerCode)
	if sc == ScenarioSystemError {
		return systemErrorReply(g), nil // nothing is created
	}
	t := s.createTrade(g, p, sc, now)
	rep := payAnswer(t, now)
	switch sc {
	case ScenarioLostAnswer:
		rep.drop = true
	case ScenarioBadSign:
		rep.corruptSign = true
	case ScenarioSlowAnswer:
		rep.delay = s.cfg.SlowPayDelay
	}
	return rep, nil
}

// parsePay checks every spot.pay parameter (reference §6.1).
func (s *Server) parsePay(g *gatewayRequest) (payRequest, *rejection) {
	if rej := g.require("alipay_seller_id", "trans_name", "partner_trans_id", "currency",
		"trans_amount", "buyer_identity_code", "identity_code_type", "trans_create_time", "biz_product"); rej != nil {
		return payRequest{}, rej
	}
	p := payRequest{transID: g.get("partner_trans_id"), buyerCode: g.get("buyer_identity_code"), currency: g.get("currency")}
	checks := []struct {
		ok   bool
		what string
	}{
		{g.get("alipay_seller_id") == s.cfg.Partner, "alipay_seller_id differs from partner"},
		{len(p.transID) <= 64, "partner_trans_id longer than 64"},
		{utf8.RuneCountInString(g.get("trans_name")) <= 256, "trans_name longer than 256"},
		{validBuyerCode(p.buyerCode), "buyer_identity_code is not 16-24 digits starting 25-30"},
		{g.get("identity_code_type") == identityTypeBarcode, "identity_code_type is not barcode"},
		{g.get("biz_product") == bizProductBarcode, "biz_product is not " + bizProductBarcode},
		{validTime14(g.get("trans_create_time")), "trans_create_time is not yyyyMMddHHmmss"},
		{g.get("trans_currency") == "" || g.get("trans_currency") == p.currency, "trans_currency differing from currency is not simulated"},
	}
	for _, c := range checks {
		if !c.ok {
			return payRequest{}, reject(ErrIllegalArgument, "%s", c.what)
		}
	}
	rate, ok := s.rates[p.currency]
	if !ok {
		return payRequest{}, reject(ErrIllegalArgument, "currency %q not supported", p.currency)
	}
	p.rate = rateString(rate)
	var rej *rejection
	if p.amount, rej = parseTransAmount(g.get("trans_amount"), p.currency); rej != nil {
		return payRequest{}, rej
	}
	if p.merchant, rej = parseExtendInfo(g.get("extend_info")); rej != nil {
		return payRequest{}, rej
	}
	return p, nil
}

// validTime14 reports whether s is a yyyyMMddHHmmss time.
func validTime14(s string) bool {
	_, err := time.Parse("20060102150405", s)
	return err == nil && len(s) == 14
}

// parseExtendInfo reads the extend_info JSON object (reference §6.2).
func parseExtendInfo(s string) (Merchant, *rejection) {
	var m Merchant
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Merchant{}, reject(ErrIllegalArgument, "extend_info is not a JSON object of strings: %v", err)
	}
	return m, nil
}

// createTrade records a new trade with the timeline its scenario plans.
func (s *Server) createTrade(g *gatewayRequest, p payRequest, sc Scenario, now time.Time) *tradeRecord {
	sum := sha256.Sum256([]byte(p.buyerCode))
	t := &tradeRecord{
		Partner: s.cfg.Partner, PartnerTransID: p.transID, AlipayTransID: s.st.nextAlipayID(now),
		BuyerHash: hex.EncodeToString(sum[:]), BuyerMasked: alipay.MaskCode(p.buyerCode),
		Scenario: sc, Amount: p.amount, Currency: p.currency, ExchangeRate: p.rate,
		TransName: g.get("trans_name"), Memo: g.get("memo"), Merchant: p.merchant,
		CreatedAt: now, AutoCloseAt: now.Add(s.cfg.AutoClose), Calls: Calls{Pay: 1},
	}
	t.BuyerUserID, t.BuyerLoginID = buyerIdentity(sum)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	switch {
	case sc.declineCode() != "":
		t.DeclineCode = sc.declineCode()
	case sc == ScenarioConfirm || sc == ScenarioConfirmQueryErrors:
		t.PayAt = at(s.cfg.ConfirmDelay)
	case sc == ScenarioReject:
		t.RejectAt = at(s.cfg.RejectDelay)
	case sc.waitsForBuyer(): // 11, 34: nothing planned but auto-close
	default:
		t.PayAt = at(0)
	}
	s.st.add(t)
	s.st.touch(t)
	return t
}

// buyerIdentity derives a stable buyer user id (2088…) and a masked login
// id from the hash of the buyer code.
func buyerIdentity(sum [32]byte) (userID, loginID string) {
	n := binary.BigEndian.Uint64(sum[:8])
	return fmt.Sprintf("2088%012d", n%1e12), fmt.Sprintf("1%02d****%04d", n/1e12%100, n/1e14%10000)
}

// repay answers a pay for a known partner_trans_id (reference §11.2).
func repay(t *tradeRecord, p payRequest, now time.Time) reply {
	t.Calls.Pay++
	sum := sha256.Sum256([]byte(p.buyerCode))
	switch {
	case hex.EncodeToString(sum[:]) != t.BuyerHash:
		return payFailed(t, CodeBuyerNotMatch)
	case p.amount != t.Amount || p.currency != t.Currency:
		return payFailed(t, CodeInvalidParam) // UNCONFIRMED code for an amount mismatch
	case t.at(now).status == StatusTradeClosed:
		return payFailed(t, CodeTradeHasClose)
	}
	return payAnswer(t, now)
}

// payAnswer reports the trade's state in pay vocabulary: SUCCESS when
// paid, UNKNOW while waiting, FAILED with the decline code when declined.
func payAnswer(t *tradeRecord, now time.Time) reply {
	tl := t.at(now)
	switch {
	case t.DeclineCode != "":
		return payFailed(t, t.DeclineCode)
	case tl.status == StatusWaitBuyerPay:
		return reply{fields: map[string]string{"result_code": "UNKNOW",
			"partner_trans_id": t.PartnerTransID, "alipay_trans_id": t.AlipayTransID}}
	case tl.status == StatusTradeClosed && !tl.paid():
		return payFailed(t, CodeTradeHasClose)
	}
	f := tradeFields(t, tl)
	f["result_code"] = "SUCCESS"
	return reply{fields: f}
}

// payFailed is a FAILED pay answer with code.
func payFailed(t *tradeRecord, code string) reply {
	return reply{fields: map[string]string{"result_code": "FAILED", "error": code,
		"partner_trans_id": t.PartnerTransID, "alipay_trans_id": t.AlipayTransID}}
}

// tradeFields are the business fields shared by the pay and query answers
// (reference §6.3, §7.2).
func tradeFields(t *tradeRecord, tl timeline) map[string]string {
	f := map[string]string{
		"partner_trans_id": t.PartnerTransID, "out_trade_no": t.PartnerTransID,
		"alipay_trans_id": t.AlipayTransID, "alipay_trans_status": tl.status,
		"alipay_buyer_user_id": t.BuyerUserID, "alipay_buyer_login_id": t.BuyerLoginID,
		"currency": t.Currency, "trans_amount": formatMinor(t.Amount, t.Currency),
		"exchange_rate": t.ExchangeRate, "trans_amount_cny": formatCNY(toCNY(t.Amount, t.Currency, t.ExchangeRate)),
		"payment_inst": "ALIPAYCN",
	}
	if tl.paid() {
		f["alipay_pay_time"] = tl.paidAt.In(beijing()).Format("20060102150405")
	}
	return f
}
