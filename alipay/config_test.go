package alipay

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func validConfig() Config {
	return Config{GatewayURL: "https://globalmapi.alipay.com/gateway.do", Partner: testPartner,
		SignType: SignMD5, MD5Key: testMD5Key}
}

func TestConfigValidateNamesFields(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := map[string]func(*Config){
		"GatewayURL":      func(c *Config) { c.GatewayURL = "" },
		"Partner":         func(c *Config) { c.Partner = "1000000000000000" },
		"SignType":        func(c *Config) { c.SignType = "md5" },
		"MD5Key":          func(c *Config) { c.MD5Key = "" },
		"PrivateKey":      func(c *Config) { c.SignType = SignRSA2 },
		"Charset":         func(c *Config) { c.Charset = "latin1" },
		"Timeout":         func(c *Config) { c.Timeout = -1 },
		"Extend":          func(c *Config) { c.Extend.StoreName = `"x"` },
		"NotifyURL":       func(c *Config) { c.NotifyURL = "notify" },
		"AlipayPublicKey": func(c *Config) { c.SignType = SignRSA },
	}
	for field, mutate := range cases {
		cfg := validConfig()
		mutate(&cfg)
		err := cfg.Validate()
		if !hasConfigField(err, field) {
			t.Errorf("%s: Validate() = %v, want a ConfigError for the field", field, err)
		}
		if _, nerr := NewClient(cfg); nerr == nil {
			t.Errorf("%s: NewClient accepted the config", field)
		}
	}
	for _, p := range []string{"2088", "20881011221362411", "208810112213624a", "3088101122136241"} {
		cfg := validConfig()
		cfg.Partner = p
		if !hasConfigField(cfg.Validate(), "Partner") {
			t.Errorf("partner %q accepted", p)
		}
	}
	for _, u := range []string{"ftp://x/gateway.do", "/gateway.do", "http://"} {
		cfg := validConfig()
		cfg.GatewayURL = u
		if !hasConfigField(cfg.Validate(), "GatewayURL") {
			t.Errorf("gateway %q accepted", u)
		}
	}
}

func TestConfigValidateReportsAll(t *testing.T) {
	err := Config{}.Validate()
	for _, f := range []string{"GatewayURL", "Partner", "SignType"} {
		if !hasConfigField(err, f) {
			t.Errorf("missing error for %s in %v", f, err)
		}
	}
}

// hasConfigField reports whether err (possibly joined) holds a
// *ConfigError for field.
func hasConfigField(err error, field string) bool {
	if err == nil {
		return false
	}
	if ce, ok := err.(*ConfigError); ok {
		return ce.Field == field
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if hasConfigField(e, field) {
				return true
			}
		}
	}
	var ce *ConfigError
	return errors.As(err, &ce) && ce.Field == field
}

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Charset != "UTF-8" || c.cfg.Timeout != DefaultTimeout {
		t.Fatalf("defaults: %q %v", c.cfg.Charset, c.cfg.Timeout)
	}
	if !strings.HasSuffix(c.endpoint, "/gateway.do?_input_charset=UTF-8") {
		t.Fatalf("endpoint %s", c.endpoint)
	}
}

func TestExtendInfoJSON(t *testing.T) {
	if s, err := (ExtendInfo{}).JSON(); err != nil || s != "" {
		t.Fatalf("empty: %q, %v", s, err)
	}
	e := ExtendInfo{TerminalID: "T1", SecondaryMerchantID: "M1", StoreName: "A & B <Zoo>", SysServiceProviderID: "ISV"}
	s, err := e.JSON()
	want := `{"secondary_merchant_id":"M1","store_name":"A & B <Zoo>","terminal_id":"T1","sys_service_provider_id":"ISV"}`
	if err != nil || s != want {
		t.Fatalf("got %s, %v\nwant %s", s, err, want)
	}
	merged := e.Merge(&ExtendInfo{StoreName: "C", StoreID: "S9"})
	if merged.StoreName != "C" || merged.StoreID != "S9" || merged.TerminalID != "T1" || merged.SecondaryMerchantID != "M1" {
		t.Fatalf("merge: %+v", merged)
	}
	if e.Merge(nil) != e {
		t.Fatal("merge with nil changed the value")
	}
}

func TestLoadRSAKeys(t *testing.T) {
	k := testRSAKey(t)
	dir := t.TempDir()
	priv := filepath.Join(dir, "merchant.pem")
	pub := filepath.Join(dir, "alipay.pem")
	pkix, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600)
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}), 0o600)
	gotPriv, gotPub, err := LoadRSAKeys(priv, pub)
	if err != nil || !gotPriv.Equal(k) || !gotPub.Equal(&k.PublicKey) {
		t.Fatalf("LoadRSAKeys: %v", err)
	}
	if _, _, err := LoadRSAKeys(filepath.Join(dir, "missing"), pub); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, _, err := LoadRSAKeys(pub, pub); err == nil {
		t.Fatal("public key accepted as private key")
	}
	// The error for a bad key file names the file, never its content.
	_, _, err = LoadRSAKeys(priv, priv)
	if err == nil || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatalf("private key as public: %v", err)
	}
}

// Plain http is refused to any host that is not loopback, unless
// InsecureHTTP says so; https and loopback http are always fine.
func TestConfigPlainHTTPOnlyToLoopback(t *testing.T) {
	for _, tc := range []struct {
		url      string
		insecure bool // InsecureGatewayURL
	}{
		{"https://globalmapi.alipay.com/gateway.do", false},
		{"https://10.0.0.5/gateway.do", false},
		{"http://127.0.0.1:7430/gateway.do", false},
		{"http://127.8.9.10/gateway.do", false},
		{"http://[::1]:7430/gateway.do", false},
		{"http://localhost:7430/gateway.do", false},
		{"HTTP://LOCALHOST/gateway.do", false},
		{"http://globalmapi.alipay.com/gateway.do", true},
		{"http://10.0.0.5:8080/gateway.do", true},
		{"http://192.168.1.20/gateway.do", true},
		{"http://[2001:db8::1]/gateway.do", true},
		{"http://0.0.0.0:7430/gateway.do", true},
		{"http://localhost.example.com/gateway.do", true},
		{"http://128.0.0.1/gateway.do", true},
	} {
		if got := InsecureGatewayURL(tc.url); got != tc.insecure {
			t.Errorf("InsecureGatewayURL(%q) = %v, want %v", tc.url, got, tc.insecure)
		}
		cfg := validConfig()
		cfg.GatewayURL = tc.url
		err := cfg.Validate()
		if tc.insecure != hasConfigField(err, "GatewayURL") {
			t.Errorf("%s: Validate() = %v", tc.url, err)
		}
		if tc.insecure && !strings.Contains(err.Error(), "plain http") {
			t.Errorf("%s: error %q does not say why", tc.url, err)
		}
		cfg.InsecureHTTP = true
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s with InsecureHTTP: %v", tc.url, err)
		}
	}
}
