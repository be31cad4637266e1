package daemon

import (
	"fmt"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/queue"
	"github.com/tillbridge/tillbridge/queue/alipaygw"
)

// alipayConfig builds the Alipay client's configuration from [gateway],
// reading the key files.
func alipayConfig(g GatewayConfig) (alipay.Config, error) {
	st, err := alipay.ParseSignType(g.SignType)
	if err != nil {
		return alipay.Config{}, &FieldError{Field: "gateway.sign_type", Err: err}
	}
	c := alipay.Config{GatewayURL: g.URL, InsecureHTTP: g.InsecureHTTP, Partner: g.Partner, SignType: st, MD5Key: g.MD5Key,
		Charset: g.Charset, Timeout: g.Timeout, Extend: alipay.ExtendInfo{
			SecondaryMerchantID: g.SecondaryMerchantID, SecondaryMerchantName: g.SecondaryMerchantName,
			SecondaryMerchantIndustry: g.SecondaryMerchantIndustry, StoreID: g.StoreID, StoreName: g.StoreName}}
	switch st {
	case alipay.SignMD5:
		if g.MD5KeyFile != "" {
			if c.MD5Key, err = readSecretFile(g.MD5KeyFile); err != nil {
				return c, &FieldError{Field: "gateway.md5_key_file", Err: err}
			}
		}
	default:
		if c.PrivateKey, c.AlipayPublicKey, err = alipay.LoadRSAKeys(g.PrivateKeyFile, g.AlipayPublicKeyFile); err != nil {
			return c, &FieldError{Field: "gateway.private_key_file", Err: err}
		}
	}
	return c, nil
}

// openGateway returns Options.Gateway, or the Alipay client built from the
// config behind the queue adapter.
func (d *Daemon) openGateway() (queue.Gateway, error) {
	if d.opts.Gateway != nil {
		return d.opts.Gateway, nil
	}
	cfg, err := alipayConfig(d.cfg.Gateway)
	if err != nil {
		return nil, err
	}
	if cfg.InsecureHTTP && alipay.InsecureGatewayURL(cfg.GatewayURL) {
		d.log.Warn().Str("component", "gateway").Str("url", cfg.GatewayURL).
			Msg("gateway.insecure_http: plain http to a host that is not loopback; buyer codes cross the " +
				"network in clear and answers can be dropped or forged on the path: test networks only, " +
				"use https in production")
	}
	client, err := alipay.NewClient(cfg, alipay.WithTrace(d.traceGateway))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return alipaygw.New(client, alipaygw.WithStores(laneStores(d.cfg.Lanes))), nil
}

// laneStores maps the terminal id of every lane that names its own store
// to that store's extend_info fields; other lanes use [gateway]'s store.
func laneStores(lanes []LaneConfig) map[string]alipay.ExtendInfo {
	stores := map[string]alipay.ExtendInfo{}
	for _, l := range lanes {
		if l.StoreID != "" || l.StoreName != "" {
			stores[l.TerminalID] = alipay.ExtendInfo{StoreID: l.StoreID, StoreName: l.StoreName}
		}
	}
	return stores
}

// traceGateway logs one gateway call (no keys, signatures or full codes).
func (d *Daemon) traceGateway(ev alipay.TraceEvent) {
	d.log.Info().Str("component", "gateway").Str("service", ev.Service).Str("partner_trans_id", ev.PartnerTransID).
		Str("outcome", ev.Outcome.String()).Str("result_code", ev.ResultCode).Str("code", ev.ErrorCode).
		Int("http", ev.HTTPStatus).Dur("took", ev.Duration).AnErr("err", ev.Err).Msg("gateway call")
}
