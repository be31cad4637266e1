// Package alipaygw adapts the Alipay client (package alipay) to the
// engine's Gateway interface (package queue), so that queue itself knows
// nothing of Alipay. It only translates: the client's classification
// (Success / Declined / Unknown) is kept as is, and an error is passed to
// the engine only with an Unknown outcome, so a definite refusal (e.g. a
// request the client refused to send) is never mistaken for an unknown one,
// nor the reverse.
package alipaygw

import (
	"context"
	"errors"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/queue"
)

// DefaultTransName is sent as trans_name when a sale has no subject (the
// gateway requires one).
const DefaultTransName = "Tickets"

// maxReasonRunes is the most refund_reason characters the gateway takes.
const maxReasonRunes = 128

// Gateway implements queue.Gateway over an *alipay.Client.
type Gateway struct {
	c      *alipay.Client
	stores map[string]alipay.ExtendInfo // per terminal id; see WithStores
}

var _ queue.Gateway = (*Gateway)(nil)

// Option configures a Gateway.
type Option func(*Gateway)

// WithStores sets per-terminal extend_info overrides, keyed by terminal id:
// a till whose lane belongs to another store than the [gateway] default
// sends that store's store_id / store_name (and any other non-empty field)
// with its pays. Fields left empty keep the client's configured values.
func WithStores(stores map[string]alipay.ExtendInfo) Option {
	return func(g *Gateway) {
		g.stores = make(map[string]alipay.ExtendInfo, len(stores))
		for t, e := range stores {
			g.stores[t] = e
		}
	}
}

// New returns the adapter for c.
func New(c *alipay.Client, opts ...Option) *Gateway {
	g := &Gateway{c: c}
	for _, o := range opts {
		o(g)
	}
	return g
}

// extend returns the per-call extend_info override for a terminal: its
// store override, if any, with the terminal id; nil when there is neither.
func (g *Gateway) extend(terminal string) *alipay.ExtendInfo {
	e, ok := g.stores[terminal]
	if !ok && terminal == "" {
		return nil
	}
	e.TerminalID = terminal
	return &e
}

// Pay sends spot.pay; the sale's terminal goes into extend_info.terminal_id,
// with that terminal's store override (WithStores) if one is set.
func (g *Gateway) Pay(ctx context.Context, r queue.PayRequest) (queue.PayResult, error) {
	req := alipay.PayRequest{PartnerTransID: r.PartnerTransID, BuyerCode: r.BuyerCode,
		Amount: r.Amount, Currency: r.Currency, TransName: r.Subject}
	if req.TransName == "" {
		req.TransName = DefaultTransName
	}
	req.Extend = g.extend(r.Terminal)
	res, err := g.c.Pay(ctx, req)
	out := queue.PayResult{Outcome: outcome(res.Outcome), Code: code(res.Error, err),
		RawStatus: res.ResultCode, TradeInfo: queue.TradeInfo{AlipayTransID: res.AlipayTransID,
			BuyerLogin: res.BuyerLoginID, AmountCNY: res.TransAmountCNY,
			ExchangeRate: res.ExchangeRate, PaidAt: res.PayTime}}
	return out, unknownErr(out.Outcome, err)
}

// Query sends overseas.query.
func (g *Gateway) Query(ctx context.Context, partnerTransID string) (queue.QueryResult, error) {
	res, err := g.c.Query(ctx, partnerTransID)
	raw := res.RawStatus
	if raw == "" {
		raw = res.ResultCode
	}
	out := queue.QueryResult{Outcome: outcome(res.Outcome), Status: tradeStatus(res.Status),
		Code: code(res.Error, err), RawStatus: raw, TradeInfo: queue.TradeInfo{
			AlipayTransID: res.AlipayTransID, BuyerLogin: res.BuyerLoginID,
			AmountCNY: res.TransAmountCNY, ExchangeRate: res.ExchangeRate, PaidAt: res.PayTime}}
	if out.Status != queue.TradeUnknown {
		return out, nil // a status (even not found) is an answer
	}
	return out, unknownErr(out.Outcome, err)
}

// Cancel sends acquire.cancel.
func (g *Gateway) Cancel(ctx context.Context, partnerTransID string) (queue.CancelResult, error) {
	res, err := g.c.Cancel(ctx, partnerTransID)
	out := queue.CancelResult{Outcome: outcome(res.Outcome), Code: code(res.Error, err),
		RawStatus: res.ResultCode, RetryFlag: queue.RetryFlag(res.RetryFlag), Action: res.Action}
	return out, unknownErr(out.Outcome, err)
}

// Refund sends a synchronous spot.refund; the reason is cut to what the
// gateway accepts.
func (g *Gateway) Refund(ctx context.Context, r queue.RefundRequest) (queue.RefundResult, error) {
	reason := []rune(r.Reason)
	if len(reason) > maxReasonRunes {
		reason = reason[:maxReasonRunes]
	}
	res, err := g.c.Refund(ctx, alipay.RefundRequest{PartnerTransID: r.PartnerTransID,
		PartnerRefundID: r.PartnerRefundID, Amount: r.Amount, Currency: r.Currency,
		Reason: string(reason)})
	out := queue.RefundResult{Outcome: outcome(res.Outcome), Code: code(res.Error, err),
		RawStatus: res.ResultCode, AlipayTransID: res.AlipayTransID, AmountCNY: res.RefundAmountCNY}
	return out, unknownErr(out.Outcome, err)
}

// outcome maps the client's classification one to one; anything else is
// Unknown.
func outcome(o alipay.Outcome) queue.Outcome {
	switch o {
	case alipay.OutcomeSuccess:
		return queue.OutcomeSuccess
	case alipay.OutcomeDeclined:
		return queue.OutcomeDeclined
	}
	return queue.OutcomeUnknown
}

func tradeStatus(s alipay.TradeStatus) queue.TradeStatus {
	switch s {
	case alipay.StatusWaitBuyerPay:
		return queue.TradeWaitBuyerPay
	case alipay.StatusSuccess:
		return queue.TradeSuccess
	case alipay.StatusClosed:
		return queue.TradeClosed
	case alipay.StatusFinished:
		return queue.TradeFinished
	case alipay.StatusNotFound:
		return queue.TradeNotFound
	}
	return queue.TradeUnknown
}

// code is the gateway's error code, or a name for a request the client
// refused to send.
func code(gatewayCode string, err error) string {
	if gatewayCode != "" {
		return gatewayCode
	}
	var inv *alipay.InvalidRequestError
	if errors.As(err, &inv) {
		return "INVALID_REQUEST:" + inv.Field
	}
	return ""
}

// unknownErr passes err on only with an Unknown outcome: the engine reads
// any error as Unknown, and a classified Success or Declined must stay so.
func unknownErr(o queue.Outcome, err error) error {
	if o == queue.OutcomeUnknown {
		return err
	}
	return nil
}
