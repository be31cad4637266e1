package sandbox

import (
	"crypto/rsa"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tillbridge/tillbridge/alipay"
)

// Defaults used when the matching Config field is zero.
const (
	// DefaultAutoClose is how long a trade may wait for the buyer before the
	// gateway closes it (reference §6.5).
	DefaultAutoClose = 3 * time.Minute
	// DefaultConfirmDelay is how long scenario 10 (and 33) waits for the
	// buyer to confirm on the phone.
	DefaultConfirmDelay = 8 * time.Second
	// DefaultRejectDelay is how long scenario 12 waits before the buyer
	// rejects on the phone.
	DefaultRejectDelay = 5 * time.Second
	// DefaultSlowPayDelay is how long scenario 35 holds back the pay answer.
	DefaultSlowPayDelay = 20 * time.Second
	// DefaultMaxRequestBytes caps the size of a gateway request (query
	// string plus body).
	DefaultMaxRequestBytes = 64 << 10
)

// Config configures a Server. Partner and at least one way to verify
// signatures (MD5Key, or MerchantPublicKey with AlipayPrivateKey) are
// required; every other field has a default.
type Config struct {
	// Partner is the only partner ID the gateway accepts: 16 digits starting
	// with 2088.
	Partner string
	// MD5Key enables sign_type=MD5 when set.
	MD5Key string
	// AlipayPrivateKey signs RSA/RSA2 answers; MerchantPublicKey verifies
	// RSA/RSA2 requests. Both set enables sign_type RSA and RSA2.
	AlipayPrivateKey  *rsa.PrivateKey
	MerchantPublicKey *rsa.PublicKey

	// AutoClose closes a trade still waiting for the buyer (default 3m).
	AutoClose time.Duration
	// ConfirmDelay is the buyer's confirmation time in scenarios 10 and 33
	// (default 8s).
	ConfirmDelay time.Duration
	// RejectDelay is the buyer's rejection time in scenario 12 (default 5s).
	RejectDelay time.Duration
	// SlowPayDelay holds back the pay answer of scenario 35 (default 20s).
	SlowPayDelay time.Duration
	// MaxRequestBytes caps a gateway request (default 64 KiB); a larger one
	// is answered is_success=F, ILLEGAL_ARGUMENT.
	MaxRequestBytes int64

	// StateFile, when set, keeps every trade in this SQLite database (WAL),
	// created or loaded by New; each gateway call that changes a trade
	// writes that trade's row in one small transaction.
	StateFile string
	// ImportStateFile names a JSON state file of an earlier version (before
	// the state moved to SQLite). When StateFile is new, its trades are
	// imported into it; afterwards the JSON file is no longer read and may
	// be deleted. A missing file is nothing to import.
	ImportStateFile string
	// Clock returns the current time (default time.Now). All statuses are
	// computed from it, so a test can move time forward.
	Clock func() time.Time
	// ExchangeRates maps a currency to its rate to CNY as a decimal string,
	// e.g. "HKD": "0.91". Entries override DefaultExchangeRates.
	ExchangeRates map[string]string
	// Logger receives one line per gateway request (buyer codes masked,
	// never keys or signatures). Default: discard.
	Logger *slog.Logger

	// connectHook, when set, is called on every new connection to the
	// state database (tests make COMMIT fail with it).
	connectHook func(*sqlite3.SQLiteConn) error
}

// DefaultExchangeRates returns the built-in rates to CNY for the currencies
// the spot pay documentation lists (illustrative values, not market rates).
func DefaultExchangeRates() map[string]string {
	return map[string]string{
		"CNY": "1", "USD": "7.10", "HKD": "0.91", "EUR": "7.80", "GBP": "9.10",
		"JPY": "0.048", "KRW": "0.0053", "SGD": "5.30", "CAD": "5.20",
		"AUD": "4.70", "NZD": "4.30", "THB": "0.20", "CHF": "8.10",
		"SEK": "0.68", "DKK": "1.05", "NOK": "0.67", "MYR": "1.55",
		"IDR": "0.00045", "PHP": "0.125", "MUR": "0.155", "ILS": "1.95",
		"LKR": "0.024", "RUB": "0.080", "AED": "1.93", "CZK": "0.31",
		"ZAR": "0.39", "MOP": "0.88", "TWD": "0.22",
	}
}

// ConfigError reports an invalid Config field.
type ConfigError struct {
	// Field names the Config field at fault.
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("sandbox: config: %s: %s", e.Field, e.Reason)
}

// partnerPattern is the shape of a partner ID (reference §3).
var partnerPattern = regexp.MustCompile(`^2088[0-9]{12}$`)

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDur(&cfg.AutoClose, DefaultAutoClose)
	setDur(&cfg.ConfirmDelay, DefaultConfirmDelay)
	setDur(&cfg.RejectDelay, DefaultRejectDelay)
	setDur(&cfg.SlowPayDelay, DefaultSlowPayDelay)
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// validate checks cfg (after withDefaults).
func (cfg Config) validate() error {
	if !partnerPattern.MatchString(cfg.Partner) {
		return &ConfigError{"Partner", "want 16 digits starting with 2088"}
	}
	if cfg.MD5Key == "" && (cfg.AlipayPrivateKey == nil || cfg.MerchantPublicKey == nil) {
		return &ConfigError{"MD5Key", "set MD5Key, or AlipayPrivateKey and MerchantPublicKey"}
	}
	if (cfg.AlipayPrivateKey == nil) != (cfg.MerchantPublicKey == nil) {
		return &ConfigError{"AlipayPrivateKey", "RSA needs both AlipayPrivateKey and MerchantPublicKey"}
	}
	for name, d := range map[string]time.Duration{"AutoClose": cfg.AutoClose,
		"ConfirmDelay": cfg.ConfirmDelay, "RejectDelay": cfg.RejectDelay, "SlowPayDelay": cfg.SlowPayDelay} {
		if d < 0 {
			return &ConfigError{name, "negative duration"}
		}
	}
	if cfg.MaxRequestBytes < 1024 {
		return &ConfigError{"MaxRequestBytes", "below 1024 bytes"}
	}
	return nil
}

// signers builds the signer of every enabled sign type.
func (cfg Config) signers() (map[alipay.SignType]alipay.Signer, error) {
	out := make(map[alipay.SignType]alipay.Signer)
	if cfg.MD5Key != "" {
		out[alipay.SignMD5] = alipay.NewMD5Signer(cfg.MD5Key)
	}
	if cfg.AlipayPrivateKey == nil {
		return out, nil
	}
	for _, t := range []alipay.SignType{alipay.SignRSA, alipay.SignRSA2} {
		s, err := alipay.NewRSASigner(t, cfg.AlipayPrivateKey, cfg.MerchantPublicKey)
		if err != nil {
			return nil, &ConfigError{"AlipayPrivateKey", err.Error()}
		}
		out[t] = s
	}
	return out, nil
}

// rates parses the default and configured exchange rates.
func (cfg Config) rates() (map[string]*big.Rat, error) {
	all := DefaultExchangeRates()
	for c, r := range cfg.ExchangeRates {
		all[c] = r
	}
	out := make(map[string]*big.Rat, len(all))
	for c, s := range all {
		r, ok := new(big.Rat).SetString(s)
		if !ok || r.Sign() <= 0 || !currencyPattern.MatchString(c) {
			return nil, &ConfigError{"ExchangeRates", fmt.Sprintf("bad rate %q for %q", s, c)}
		}
		out[c] = r
	}
	return out, nil
}

// currencyPattern is an ISO 4217 code as the gateway writes it.
var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
