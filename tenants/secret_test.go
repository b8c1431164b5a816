package tenants

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// decodes is the shape check by decoding: what wellFormed must agree with.
func decodes(secret string) bool {
	body, ok := strings.CutPrefix(secret, keyPrefix)
	if !ok || strings.ContainsAny(body, "\r\n") {
		return false // the decoder skips line breaks; a header cannot carry them
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	return err == nil && len(raw) == secretBytes
}

func TestHashSecret(t *testing.T) {
	good := NewSecret()
	cases := []struct {
		name, secret string
		ok           bool
	}{
		{"fresh key", good, true},
		{"all dashes and underscores", keyPrefix + strings.Repeat("-_", 21) + "A", true},
		{"empty", "", false},
		{"prefix only", keyPrefix, false},
		{"no prefix", good[len(keyPrefix):], false},
		{"wrong prefix", "rx_" + good[len(keyPrefix):], false},
		{"one character short", good[:len(good)-1], false},
		{"one character long", good + "A", false},
		{"standard base64 alphabet", keyPrefix + strings.Repeat("+/", 21) + "A", false},
		{"padding", good[:len(good)-1] + "=", false},
		{"space", good[:10] + " " + good[11:], false},
		{"non-ASCII", good[:len(good)-2] + "é", false},
		{"far too long", keyPrefix + strings.Repeat("A", 200), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := decodes(c.secret); got != c.ok {
				t.Fatalf("the case is wrong: decoding says %v", got)
			}
			h, err := HashSecret(c.secret)
			// AppendKeyHash appends the same hash after what b holds, or
			// leaves b as it was.
			b, aerr := AppendKeyHash([]byte("pre"), c.secret, DigestOf(c.secret))
			if !c.ok {
				if !errors.Is(err, ErrBadSecret) {
					t.Fatalf("HashSecret(%q) = %q, %v; want ErrBadSecret", c.secret, h, err)
				}
				if !errors.Is(aerr, ErrBadSecret) || string(b) != "pre" {
					t.Fatalf("AppendKeyHash(%q) = %q, %v; want ErrBadSecret", c.secret, b, aerr)
				}
				return
			}
			sum := sha256.Sum256([]byte(c.secret))
			if err != nil || h != hex.EncodeToString(sum[:]) || len(h) != KeyHashLen {
				t.Fatalf("HashSecret(%q) = %q, %v; want the hex SHA-256", c.secret, h, err)
			}
			if aerr != nil || string(b) != "pre"+h {
				t.Fatalf("AppendKeyHash(%q) = %q, %v; want %q after the prefix", c.secret, b, aerr, h)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	for _, s := range []string{"", "admin", NewSecret(), strings.Repeat("x", maxSecretLen), strings.Repeat("y", maxSecretLen+1)} {
		if DigestOf(s) != sha256.Sum256([]byte(s)) {
			t.Errorf("DigestOf(%d bytes) is not the SHA-256", len(s))
		}
		if !DigestOf(s).Matches(DigestOf(s)) || DigestOf(s).Matches(DigestOf(s+"!")) {
			t.Errorf("Matches is wrong for %d bytes", len(s))
		}
	}
	key := NewSecret()
	if n := testing.AllocsPerRun(100, func() { _ = DigestOf(key) }); n != 0 {
		t.Errorf("DigestOf allocates %v times for a key-sized secret", n)
	}
}

func FuzzWellFormed(f *testing.F) {
	f.Add(NewSecret())
	f.Add(keyPrefix + strings.Repeat("A", 43))
	f.Add("rt_")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := wellFormed(s), decodes(s); got != want {
			t.Fatalf("wellFormed(%q) = %v, decoding says %v", s, got, want)
		}
	})
}
