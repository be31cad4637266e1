package alipay

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults applied by NewClient when the matching Config field is zero.
const (
	// DefaultCharset is the _input_charset sent when Config.Charset is empty.
	DefaultCharset = CharsetUTF8
	// DefaultTimeout bounds one gateway call when Config.Timeout is zero.
	DefaultTimeout = 15 * time.Second
	// MaxResponseBytes caps a gateway response body; a larger one is
	// ErrBodyTooLarge and an Unknown outcome.
	MaxResponseBytes = 1 << 20
)

// Config configures a Client. Use Validate to check it; NewClient validates
// it and applies the defaults.
type Config struct {
	// GatewayURL is the mapi endpoint, e.g.
	// https://globalmapi.alipay.com/gateway.do. Plain http is accepted only
	// to a loopback host (a sandbox on the same machine) unless
	// InsecureHTTP is set.
	GatewayURL string
	// InsecureHTTP allows a plain http:// GatewayURL to a host that is not
	// loopback (a test network). Over such a link buyer codes travel in
	// clear and anyone on the path can drop, delay or forge the unsigned
	// answers; outcomes stay safe (they are Unknown and queried) but sales
	// are then delayed or disturbed at will. Never for production.
	InsecureHTTP bool
	// Partner is the partner ID (PID): 16 digits starting with 2088. It is
	// also sent as alipay_seller_id on pay.
	Partner string
	// SignType selects MD5, RSA or RSA2.
	SignType SignType
	// MD5Key is the MD5 key (required for SignMD5).
	MD5Key string
	// PrivateKey is the merchant's RSA key that signs requests (required
	// for RSA and RSA2).
	PrivateKey *rsa.PrivateKey
	// AlipayPublicKey verifies Alipay's answers and notifications (required
	// for RSA and RSA2).
	AlipayPublicKey *rsa.PublicKey
	// Charset is the _input_charset: UTF-8 (default), GBK or GB2312.
	Charset string
	// Timeout bounds one gateway call, from sending to the last byte of the
	// answer (default 15s).
	Timeout time.Duration
	// Extend holds the extend_info fields sent on pay; a PayRequest may
	// override single fields (e.g. a lane's store and terminal).
	Extend ExtendInfo
	// NotifyURL, when set, is sent as notify_url on pay and refund.
	NotifyURL string
}

// ExtendInfo is the extend_info JSON of spot.pay (reference §6.2). Empty
// fields are omitted; keys appear in the order of the fields below.
type ExtendInfo struct {
	// SecondaryMerchantID identifies the sub-merchant (required by Alipay's
	// current rules).
	SecondaryMerchantID string `json:"secondary_merchant_id,omitempty"`
	// SecondaryMerchantName is shown on the buyer's statement.
	SecondaryMerchantName string `json:"secondary_merchant_name,omitempty"`
	// SecondaryMerchantIndustry is the MCC-style industry code, e.g. 7991.
	SecondaryMerchantIndustry string `json:"secondary_merchant_industry,omitempty"`
	// StoreID is the merchant's store number (required by Alipay's current
	// rules).
	StoreID string `json:"store_id,omitempty"`
	// StoreName is shown in the wallet and in reconciliation files.
	StoreName string `json:"store_name,omitempty"`
	// TerminalID names the till that sent the request.
	TerminalID string `json:"terminal_id,omitempty"`
	// SysServiceProviderID is the technology provider (ISV) id.
	SysServiceProviderID string `json:"sys_service_provider_id,omitempty"`
}

// fields lists the JSON keys and values of e, in marshalling order.
func (e ExtendInfo) fields() [][2]string {
	return [][2]string{
		{"secondary_merchant_id", e.SecondaryMerchantID},
		{"secondary_merchant_name", e.SecondaryMerchantName},
		{"secondary_merchant_industry", e.SecondaryMerchantIndustry},
		{"store_id", e.StoreID},
		{"store_name", e.StoreName},
		{"terminal_id", e.TerminalID},
		{"sys_service_provider_id", e.SysServiceProviderID},
	}
}

// Merge returns e with every non-empty field of o laid over it; o may be nil.
func (e ExtendInfo) Merge(o *ExtendInfo) ExtendInfo {
	if o == nil {
		return e
	}
	pick := func(over, base string) string {
		if over != "" {
			return over
		}
		return base
	}
	return ExtendInfo{
		SecondaryMerchantID:       pick(o.SecondaryMerchantID, e.SecondaryMerchantID),
		SecondaryMerchantName:     pick(o.SecondaryMerchantName, e.SecondaryMerchantName),
		SecondaryMerchantIndustry: pick(o.SecondaryMerchantIndustry, e.SecondaryMerchantIndustry),
		StoreID:                   pick(o.StoreID, e.StoreID),
		StoreName:                 pick(o.StoreName, e.StoreName),
		TerminalID:                pick(o.TerminalID, e.TerminalID),
		SysServiceProviderID:      pick(o.SysServiceProviderID, e.SysServiceProviderID),
	}
}

// JSON returns the extend_info value: compact JSON, empty fields omitted,
// HTML characters not escaped; "" when every field is empty. A field
// holding a double quote is an *InvalidRequestError (reference §2.2).
func (e ExtendInfo) JSON() (string, error) {
	if e == (ExtendInfo{}) {
		return "", nil
	}
	for _, f := range e.fields() {
		if err := checkValue("extend_info."+f[0], f[1]); err != nil {
			return "", err
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return "", fmt.Errorf("alipay: extend_info: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// Validate checks every field and returns one *ConfigError per problem
// (joined with errors.Join), or nil. Zero Charset and Timeout are valid:
// NewClient fills in the defaults.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, reason string) { errs = append(errs, &ConfigError{Field: field, Reason: reason}) }
	if err := checkURL(c.GatewayURL, true); err != "" {
		bad("GatewayURL", err)
	} else if InsecureGatewayURL(c.GatewayURL) && !c.InsecureHTTP {
		bad("GatewayURL", fmt.Sprintf("%q is plain http to a host that is not loopback; use https "+
			"(or set InsecureHTTP for a test network)", c.GatewayURL))
	}
	if !validPartner(c.Partner) {
		bad("Partner", fmt.Sprintf("%q must be 16 digits starting with 2088", c.Partner))
	}
	switch c.SignType {
	case SignMD5:
		if c.MD5Key == "" {
			bad("MD5Key", "required for sign type MD5")
		}
	case SignRSA, SignRSA2:
		if c.PrivateKey == nil {
			bad("PrivateKey", "required for sign type "+string(c.SignType))
		}
		if c.AlipayPublicKey == nil {
			bad("AlipayPublicKey", "required for sign type "+string(c.SignType))
		}
	default:
		bad("SignType", fmt.Sprintf("%q is not MD5, RSA or RSA2", c.SignType))
	}
	if _, ok := canonicalCharset(c.Charset); c.Charset != "" && !ok {
		bad("Charset", fmt.Sprintf("%q is not UTF-8, GBK or GB2312", c.Charset))
	}
	if c.Timeout < 0 {
		bad("Timeout", "negative")
	}
	if _, err := c.Extend.JSON(); err != nil {
		bad("Extend", err.Error())
	}
	if c.NotifyURL != "" {
		if err := checkURL(c.NotifyURL, false); err != "" {
			bad("NotifyURL", err)
		} else if len(c.NotifyURL) > 200 {
			bad("NotifyURL", "longer than 200 characters")
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns c with Charset (canonical) and Timeout filled in.
func (c Config) withDefaults() Config {
	if canon, ok := canonicalCharset(c.Charset); ok {
		c.Charset = canon
	} else {
		c.Charset = DefaultCharset
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// signer builds the request signer of c (after Validate).
func (c Config) signer() (Signer, error) {
	if c.SignType == SignMD5 {
		return NewMD5Signer(c.MD5Key), nil
	}
	return NewRSASigner(c.SignType, c.PrivateKey, c.AlipayPublicKey)
}

// checkURL returns why s is not an absolute http(s) URL, or "".
func checkURL(s string, required bool) string {
	if s == "" {
		if required {
			return "required"
		}
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "not a URL"
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an absolute http or https URL", s)
	}
	return ""
}

// InsecureGatewayURL reports whether s is a plain http:// URL whose host is
// not loopback: not "localhost", not in 127.0.0.0/8, not ::1. Such a URL
// needs Config.InsecureHTTP. https URLs, loopback http URLs and strings
// that are not URLs report false (Validate refuses the latter anyway).
func InsecureGatewayURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return false
	}
	return !isLoopbackHost(u.Hostname())
}

// isLoopbackHost reports whether host (without port or brackets) is
// "localhost" or a loopback IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validPartner reports whether p is 16 digits starting with 2088.
func validPartner(p string) bool {
	return len(p) == 16 && strings.HasPrefix(p, "2088") && allDigits(p)
}

// LoadRSAKeys reads the merchant private key (PKCS#1 or PKCS#8) and the
// Alipay public key (PKIX or PKCS#1) from PEM files, for Config.PrivateKey
// and Config.AlipayPublicKey. Errors name the file, never its content.
func LoadRSAKeys(privFile, pubFile string) (*rsa.PrivateKey, *rsa.PublicKey, error) {
	privPEM, err := os.ReadFile(privFile)
	if err != nil {
		return nil, nil, fmt.Errorf("alipay: read private key: %w", err)
	}
	priv, err := ParsePrivateKeyPEM(privPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("alipay: %s: %w", privFile, err)
	}
	pubPEM, err := os.ReadFile(pubFile)
	if err != nil {
		return nil, nil, fmt.Errorf("alipay: read Alipay public key: %w", err)
	}
	pub, err := ParsePublicKeyPEM(pubPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("alipay: %s: %w", pubFile, err)
	}
	return priv, pub, nil
}
