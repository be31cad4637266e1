package alipay

import "testing"

// benchSigners returns one signer per sign type, sharing a 2048-bit key.
func benchSigners(b *testing.B) []Signer {
	k := testRSAKey(b)
	r1, _ := NewRSASigner(SignRSA, k, &k.PublicKey)
	r2, _ := NewRSASigner(SignRSA2, k, &k.PublicKey)
	return []Signer{NewMD5Signer(testMD5Key), r1, r2}
}

// benchPresign is the V7 pay pre-sign string, a realistic request size.
func benchPresign() []byte { return []byte(PreSignString(v7Params())) }

func BenchmarkSign(b *testing.B) {
	msg := benchPresign()
	for _, s := range benchSigners(b) {
		b.Run(string(s.Type()), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := s.Sign(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	msg := benchPresign()
	for _, s := range benchSigners(b) {
		sig, err := s.Sign(msg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(s.Type()), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := s.Verify(msg, sig); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadAnswer(b *testing.B) {
	body := readTestdata(b, "pay_success_v8.xml")
	c, err := NewClient(validConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := c.readAnswer(Detail{HTTPStatus: 200}, body); err != nil {
			b.Fatal(err)
		}
	}
}
