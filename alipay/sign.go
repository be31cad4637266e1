package alipay

import (
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// SignType is the gateway's sign_type value.
type SignType string

// The sign types the gateway accepts (upper case, reference §4).
const (
	// SignMD5 appends the MD5 key to the pre-sign string and hashes it.
	SignMD5 SignType = "MD5"
	// SignRSA is SHA1withRSA, PKCS#1 v1.5, standard Base64.
	SignRSA SignType = "RSA"
	// SignRSA2 is SHA256withRSA, PKCS#1 v1.5, standard Base64.
	SignRSA2 SignType = "RSA2"
)

// ParseSignType returns the SignType named by s. Only the exact upper-case
// names MD5, RSA and RSA2 are accepted, as on the gateway.
func ParseSignType(s string) (SignType, error) {
	switch t := SignType(s); t {
	case SignMD5, SignRSA, SignRSA2:
		return t, nil
	}
	return "", fmt.Errorf("alipay: unknown sign_type %q (want MD5, RSA or RSA2)", s)
}

// PreSignString builds the canonical string that is signed (reference §4.1):
// every parameter except sign and sign_type, empty values dropped, sorted by
// key in byte order, joined as k=v with &, values raw (not URL-escaped).
func PreSignString(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || k == "sign_type" || v == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}

// Signer signs and verifies pre-sign bytes (already encoded in the request
// charset). Implementations are safe for concurrent use and never read the
// clock.
type Signer interface {
	// Type is the sign_type this signer produces.
	Type() SignType
	// Sign returns the sign value for presign.
	Sign(presign []byte) (string, error)
	// Verify checks sig against presign; a mismatch wraps ErrBadSignature.
	Verify(presign []byte, sig string) error
}

type md5Signer struct{ key []byte }

// NewMD5Signer returns the MD5 signer: lower-case hex of
// MD5(presign || key), no separator (reference §4.2).
func NewMD5Signer(key string) Signer { return md5Signer{key: []byte(key)} }

func (md5Signer) Type() SignType { return SignMD5 }

func (s md5Signer) Sign(presign []byte) (string, error) {
	if len(s.key) == 0 {
		return "", fmt.Errorf("%w (MD5 sign)", ErrNoKey)
	}
	return s.digest(presign), nil
}

func (s md5Signer) digest(presign []byte) string {
	h := md5.New()
	h.Write(presign)
	h.Write(s.key)
	return hex.EncodeToString(h.Sum(nil))
}

func (s md5Signer) Verify(presign []byte, sig string) error {
	if len(s.key) == 0 {
		return fmt.Errorf("%w (MD5 verify)", ErrNoKey)
	}
	want := s.digest(presign)
	got := strings.ToLower(sig)
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return fmt.Errorf("%w (MD5)", ErrBadSignature)
	}
	return nil
}

type rsaSigner struct {
	t    SignType
	hash crypto.Hash
	priv *rsa.PrivateKey
	pub  *rsa.PublicKey
}

// NewRSASigner returns an RSA (SHA1) or RSA2 (SHA256) PKCS#1 v1.5 signer
// with standard Base64 output. priv (the merchant key) signs and may be nil,
// in which case Sign fails with ErrNoKey; pub (Alipay's key) verifies and may
// be nil, in which case Verify fails with ErrNoKey.
func NewRSASigner(t SignType, priv *rsa.PrivateKey, pub *rsa.PublicKey) (Signer, error) {
	s := &rsaSigner{t: t, priv: priv, pub: pub}
	switch t {
	case SignRSA:
		s.hash = crypto.SHA1
	case SignRSA2:
		s.hash = crypto.SHA256
	default:
		return nil, fmt.Errorf("alipay: NewRSASigner: sign type %q is not RSA or RSA2", t)
	}
	if priv == nil && pub == nil {
		return nil, fmt.Errorf("alipay: NewRSASigner: %w", ErrNoKey)
	}
	return s, nil
}

func (s *rsaSigner) Type() SignType { return s.t }

func (s *rsaSigner) sum(presign []byte) []byte {
	if s.hash == crypto.SHA1 {
		d := sha1.Sum(presign)
		return d[:]
	}
	d := sha256.Sum256(presign)
	return d[:]
}

func (s *rsaSigner) Sign(presign []byte) (string, error) {
	if s.priv == nil {
		return "", fmt.Errorf("%w (%s sign)", ErrNoKey, s.t)
	}
	sig, err := rsa.SignPKCS1v15(nil, s.priv, s.hash, s.sum(presign))
	if err != nil {
		return "", fmt.Errorf("alipay: %s sign: %w", s.t, err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

func (s *rsaSigner) Verify(presign []byte, sig string) error {
	if s.pub == nil {
		return fmt.Errorf("%w (%s verify)", ErrNoKey, s.t)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w (%s: not Base64)", ErrBadSignature, s.t)
	}
	if err := rsa.VerifyPKCS1v15(s.pub, s.hash, s.sum(presign), raw); err != nil {
		return fmt.Errorf("%w (%s)", ErrBadSignature, s.t)
	}
	return nil
}

// ParsePrivateKeyPEM parses an RSA private key in a PEM block, PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). A bare Base64 body without
// PEM armour (the form Alipay's key tools hand out) is accepted too.
func ParsePrivateKeyPEM(pemBytes []byte) (*rsa.PrivateKey, error) {
	der, err := pemOrBase64(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("alipay: private key: %w", err)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("alipay: private key: neither PKCS#1 nor PKCS#8: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("alipay: private key: %T is not an RSA key", k)
	}
	return rk, nil
}

// ParsePublicKeyPEM parses an RSA public key in a PEM block, PKIX
// ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY"). A bare Base64 body without
// PEM armour (the form the Alipay portal shows) is accepted too.
func ParsePublicKeyPEM(pemBytes []byte) (*rsa.PublicKey, error) {
	der, err := pemOrBase64(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("alipay: public key: %w", err)
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("alipay: public key: neither PKIX nor PKCS#1: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("alipay: public key: %T is not an RSA key", k)
	}
	return rk, nil
}

// pemOrBase64 returns the DER bytes of the first PEM block of b, or of b
// itself read as bare (whitespace-tolerant) standard Base64.
func pemOrBase64(b []byte) ([]byte, error) {
	if block, _ := pem.Decode(b); block != nil {
		return block.Bytes, nil
	}
	bare := strings.Join(strings.Fields(string(b)), "")
	if bare == "" {
		return nil, errors.New("empty key")
	}
	der, err := base64.StdEncoding.DecodeString(bare)
	if err != nil {
		return nil, errors.New("no PEM block and not bare Base64")
	}
	return der, nil
}
