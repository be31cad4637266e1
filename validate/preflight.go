package validate

import (
	"context"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/installer"
)

// Pre-flight check names (stable: tools read them from the JSON report).
const (
	CheckKeysLoad      = "keys load"
	CheckKeysPrivate   = "key files private"
	CheckNotSwapped    = "key pair not swapped"
	CheckRoundTrip     = "sign/verify round trip"
	CheckPartner       = "partner id format"
	CheckExtendInfo    = "extend_info fields"
	CheckGateway       = "gateway answers signed queries"
	CheckClock         = "clock offset from the gateway"
	CheckDevicesReady  = "printer and scanner ready"
	preflightStepBound = 90 * time.Second
)

var (
	partnerRE = regexp.MustCompile(`^2088\d{12}$`)
	md5KeyRE  = regexp.MustCompile(`^[0-9A-Za-z]{32}$`)
	mccRE     = regexp.MustCompile(`^\d{4}$`)
)

// CheckDaemonStarts is the pre-flight check that the daemon starts on
// the configuration (the daemon validates it field by field).
const CheckDaemonStarts = "daemon starts"

// preflight checks everything that can be checked before money moves.
func preflight(ctx context.Context, e *env) []Check {
	out := staticChecks(e.cfg.Gateway, e.sb == nil)
	return append(out, liveChecks(ctx, e)...)
}

// staticChecks look at the keys and [gateway] without any network call.
func staticChecks(g daemon.GatewayConfig, keyFilePerms bool) []Check {
	var out []Check
	add := func(name string, ok bool, format string, args ...any) {
		out = append(out, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	signer, detail, err := loadSigner(g)
	add(CheckKeysLoad, err == nil, "%s", detail)
	if keyFilePerms {
		var bad []string
		for _, f := range []string{g.MD5KeyFile, g.PrivateKeyFile} {
			if f == "" {
				continue
			}
			if err := installer.CheckSecretFile(f); err != nil {
				bad = append(bad, err.Error())
			}
		}
		add(CheckKeysPrivate, len(bad) == 0, "%s", orText(strings.Join(bad, "; "), "only the service account can read the key files"))
	}
	add(CheckNotSwapped, notSwapped(g, &detail), "%s", detail)
	if signer != nil {
		add(CheckRoundTrip, roundTrip(signer, &detail), "%s", detail)
	} else {
		add(CheckRoundTrip, false, "no signer: the keys did not load")
	}
	if partnerRE.MatchString(g.Partner) {
		add(CheckPartner, true, "partner %s: 16 digits starting 2088", g.Partner)
	} else {
		add(CheckPartner, false, "partner %q: want 16 digits starting 2088 (the PID of the Alipay portal)", g.Partner)
	}
	add(CheckExtendInfo, extendInfo(g, &detail), "%s", detail)
	return out
}

// liveChecks ask the running daemon: a signed query of a trade that cannot
// exist (keys, partner, clock) and its devices.
func liveChecks(ctx context.Context, e *env) []Check {
	var out []Check
	add := func(name string, ok bool, format string, args ...any) {
		out = append(out, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	add(CheckDaemonStarts, true, "ECR protocol on %s, gateway calls through the recorder to %s", e.ecrAddr, e.origURL)
	cctx, cancel := context.WithTimeout(ctx, preflightStepBound)
	gc, err := e.d.GatewayCheck(cctx)
	cancel()
	switch {
	case err != nil:
		add(CheckGateway, false, "gateway check: %v", err)
	default:
		add(CheckGateway, gc.Verdict == control.VerdictOK || gc.Verdict == control.VerdictClockSkew,
			"query of %s: verdict %s, HTTP %d, code %s, answer signature verified %v. %s",
			gc.TradeID, gc.Verdict, gc.HTTPStatus, orText(gc.Code, "—"), gc.Verified, gc.Advice)
		skew := time.Duration(gc.ClockSkewMS) * time.Millisecond
		add(CheckClock, gc.ClockKnown && skew.Abs() <= daemon.MaxClockSkew,
			"till clock is %s off the gateway's (known %v; at most %s allowed)", skew, gc.ClockKnown, daemon.MaxClockSkew)
	}
	ok, detail := devicesReady(ctx, e)
	add(CheckDevicesReady, ok, "%s", detail)
	return out
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// loadSigner loads the keys the way the daemon does and builds a signer
// that signs with the merchant key and verifies with its own public half
// (so a round trip proves the key itself, whatever Alipay's key is).
func loadSigner(g daemon.GatewayConfig) (alipay.Signer, string, error) {
	st, err := alipay.ParseSignType(g.SignType)
	if err != nil {
		return nil, err.Error(), err
	}
	if st == alipay.SignMD5 {
		key := g.MD5Key
		if g.MD5KeyFile != "" {
			b, err := os.ReadFile(g.MD5KeyFile)
			if err != nil {
				return nil, fmt.Sprintf("md5_key_file: %v", err), err
			}
			key = strings.TrimSpace(string(b))
		}
		if key == "" {
			return nil, "no MD5 key configured", fmt.Errorf("no MD5 key")
		}
		return alipay.NewMD5Signer(key), fmt.Sprintf("MD5 key of %d characters loaded", len(key)), nil
	}
	priv, pub, err := alipay.LoadRSAKeys(g.PrivateKeyFile, g.AlipayPublicKeyFile)
	if err != nil {
		return nil, err.Error(), err
	}
	s, err := alipay.NewRSASigner(st, priv, &priv.PublicKey)
	if err != nil {
		return nil, err.Error(), err
	}
	return s, fmt.Sprintf("%s: private key %d bits, Alipay public key %d bits", st, priv.N.BitLen(), pub.N.BitLen()), nil
}

// notSwapped detects the most common ILLEGAL_SIGN cause: the merchant's
// own public key configured where Alipay's belongs (or the files given the
// wrong way round). For MD5 it checks the key's shape instead.
func notSwapped(g daemon.GatewayConfig, detail *string) bool {
	if strings.EqualFold(g.SignType, "MD5") || g.SignType == "" {
		key := g.MD5Key
		if g.MD5KeyFile != "" {
			if b, err := os.ReadFile(g.MD5KeyFile); err == nil {
				key = strings.TrimSpace(string(b))
			}
		}
		switch {
		case key == g.Partner && key != "":
			*detail = "the MD5 key file holds the partner id, not the key"
			return false
		case !md5KeyRE.MatchString(key):
			*detail = fmt.Sprintf("the MD5 key is %d characters; Alipay's MD5 keys are 32 letters and digits", len(key))
			return false
		}
		*detail = "MD5: the key has the shape of an Alipay MD5 key (32 letters and digits)"
		return true
	}
	if pemHas(g.AlipayPublicKeyFile, "PRIVATE KEY") {
		*detail = "alipay_public_key_file holds a PRIVATE key: the files are swapped, or the merchant key was pasted there"
		return false
	}
	if pemHas(g.PrivateKeyFile, "PUBLIC KEY") {
		*detail = "private_key_file holds a PUBLIC key: the files are swapped"
		return false
	}
	priv, pub, err := alipay.LoadRSAKeys(g.PrivateKeyFile, g.AlipayPublicKeyFile)
	if err != nil {
		*detail = err.Error()
		return false
	}
	if samePublic(&priv.PublicKey, pub) {
		*detail = "alipay_public_key_file is the public half of YOUR private key: configure Alipay's public key " +
			"(from the Alipay portal), and upload yours to Alipay"
		return false
	}
	*detail = "the Alipay public key is not the merchant key's own public half"
	return true
}

func pemHas(file, kind string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return false
		}
		if strings.HasSuffix(blk.Type, kind) {
			return true
		}
	}
}

func samePublic(a, b *rsa.PublicKey) bool {
	return a.E == b.E && a.N.Cmp(b.N) == 0
}

// roundTrip signs a sample string, verifies it, and checks that a changed
// string does not verify.
func roundTrip(s alipay.Signer, detail *string) bool {
	presign := []byte(alipay.PreSignString(map[string]string{"partner": "2088000000000000",
		"service": "alipay.acquire.overseas.query", "partner_trans_id": "TBPREFLIGHT"}))
	sig, err := s.Sign(presign)
	if err != nil {
		*detail = "sign: " + err.Error()
		return false
	}
	if err := s.Verify(presign, sig); err != nil {
		*detail = "verify of our own signature: " + err.Error()
		return false
	}
	if err := s.Verify(append(presign, 'x'), sig); err == nil {
		*detail = "a changed string verified: the signer is broken"
		return false
	}
	*detail = fmt.Sprintf("%s: signed, verified, and a tampered string rejected", s.Type())
	return true
}

// extendInfo checks the fields Alipay requires in extend_info.
func extendInfo(g daemon.GatewayConfig, detail *string) bool {
	var missing []string
	for _, f := range []struct{ name, v string }{{"secondary_merchant_id", g.SecondaryMerchantID},
		{"secondary_merchant_name", g.SecondaryMerchantName}, {"secondary_merchant_industry", g.SecondaryMerchantIndustry},
		{"store_id", g.StoreID}, {"store_name", g.StoreName}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		*detail = "missing in [gateway]: " + strings.Join(missing, ", ")
		return false
	}
	if !mccRE.MatchString(g.SecondaryMerchantIndustry) {
		*detail = fmt.Sprintf("secondary_merchant_industry %q: want a 4-digit MCC", g.SecondaryMerchantIndustry)
		return false
	}
	*detail = fmt.Sprintf("secondary_merchant_id %s, name %q, industry %s, store_id %s, store_name %q",
		g.SecondaryMerchantID, g.SecondaryMerchantName, g.SecondaryMerchantIndustry, g.StoreID, g.StoreName)
	return true
}

// devicesReady asks the daemon for its devices over the ECR protocol.
func devicesReady(ctx context.Context, e *env) (bool, string) {
	cctx, cancel := context.WithTimeout(ctx, preflightStepBound)
	defer cancel()
	cl, err := ecrproto.Dial(cctx, "tcp", e.ecrAddr, nil)
	if err != nil {
		return false, err.Error()
	}
	defer cl.Close()
	res, err := cl.Devices(cctx, "")
	if err != nil {
		return false, err.Error()
	}
	if res.Type != ecrproto.TypeResult {
		return false, answerLabel(res) + " " + res.Message
	}
	// printers that cannot report a status (a file, a one-way link) say
	// "unknown": that is their ready state
	mute := map[string]bool{}
	for name, p := range e.cfg.Printers {
		mute[name] = p.Backend == "file" || p.OneWay
	}
	ok := true
	for _, part := range strings.Split(res.Message, "; ") {
		i := strings.LastIndex(part, ": ")
		if i < 0 {
			continue
		}
		f := strings.Fields(part[:i]) // lane ID KIND NAME
		state := part[i+2:]
		switch {
		case state == "ok" || state == "running" || state == "paper_near_end":
		case state == "unknown" && len(f) == 4 && f[2] == "printer" && mute[f[3]]:
		default:
			ok = false
		}
	}
	if res.Message == "no devices configured" {
		ok = true
	}
	return ok, res.Message
}
