package alipay

import (
	"crypto/rsa"
	"fmt"
	"net/url"
)

// verifier checks Alipay's signatures on responses and notifications with
// the keys of the client's configuration.
type verifier struct {
	signType SignType
	md5Key   string
	pub      *rsa.PublicKey
	charset  string
}

// signerFor returns a verifying Signer for the sign_type Alipay used. MD5
// answers are accepted only from an MD5 client; RSA and RSA2 answers from an
// RSA or RSA2 client (both are checked with the same Alipay public key).
func (v verifier) signerFor(st string) (Signer, error) {
	t, err := ParseSignType(st)
	if err != nil {
		return nil, fmt.Errorf("%w (unknown sign_type %q)", ErrBadSignature, st)
	}
	switch {
	case t == SignMD5 && v.signType == SignMD5:
		return NewMD5Signer(v.md5Key), nil
	case t != SignMD5 && v.signType != SignMD5 && v.pub != nil:
		return NewRSASigner(t, nil, v.pub)
	}
	return nil, fmt.Errorf("%w (signed %s, client uses %s)", ErrBadSignature, t, v.signType)
}

// verify checks sig over the pre-sign string of params. The string is
// tried in the client's charset first and then in alt (the answer's
// declared encoding), because real answers declare GBK even for UTF-8
// requests (reference §2.2) and which bytes Alipay signs is UNCONFIRMED.
// A missing signature wraps both ErrBadSignature and ErrMissingSignature.
func (v verifier) verify(params map[string]string, signType, sig, alt string) error {
	if sig == "" || signType == "" {
		return missingSignature{}
	}
	s, err := v.signerFor(signType)
	if err != nil {
		return err
	}
	presign := PreSignString(params)
	charsets := []string{v.charset}
	if alt != "" && alt != v.charset {
		charsets = append(charsets, alt)
	}
	var last error
	for _, cs := range charsets {
		b, err := EncodeCharset(presign, cs)
		if err != nil {
			last = fmt.Errorf("%w (pre-sign string not encodable in %s)", ErrBadSignature, cs)
			continue
		}
		if last = s.Verify(b, sig); last == nil {
			return nil
		}
	}
	return last
}

// missingSignature is the error for an answer without sign or sign_type:
// it is both ErrBadSignature and ErrMissingSignature.
type missingSignature struct{}

func (missingSignature) Error() string { return "alipay: bad signature: sign or sign_type missing" }

func (missingSignature) Is(target error) bool {
	return target == ErrBadSignature || target == ErrMissingSignature
}

// VerifyNotification checks the signature of an asynchronous notification
// (reference §12): every parameter except sign and sign_type, empty values
// dropped, sorted and verified with the sign_type it names. A parameter
// given more than once is refused as ambiguous. A nil error means the
// notification is genuine; it says nothing about the trade until the
// caller reads the fields (and, by the design, confirms with a query).
func (c *Client) VerifyNotification(params url.Values) error {
	flat := make(map[string]string, len(params))
	for k, vs := range params {
		if len(vs) != 1 {
			return fmt.Errorf("%w (notification parameter %q given %d times)", ErrBadSignature, k, len(vs))
		}
		flat[k] = vs[0]
	}
	return c.verifier.verify(flat, flat["sign_type"], flat["sign"], CharsetUTF8)
}
