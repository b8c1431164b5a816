package tenants

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Tenant is one customer of the cluster. ID is immutable and is what the
// keyspace and the feed subjects use; Name is for people.
type Tenant struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Quotas  Quotas    `json:"quotas"`
}

// Quotas bound what one tenant may use. Zero values mean "the cluster
// default" when a tenant is created.
type Quotas struct {
	// RequestsPerSecond is the sustained request rate at each gateway; Burst
	// is how many may arrive at once.
	RequestsPerSecond float64 `json:"requests_per_second"`
	Burst             int     `json:"burst"`
	// Tables bounds the number of tables.
	Tables int `json:"tables"`
	// StoredBytes bounds the bytes of items stored (counted once, not once
	// per replica), as reported by the storage nodes: approximate.
	StoredBytes int64 `json:"stored_bytes"`
}

// DefaultQuotas are generous enough for development and small services.
func DefaultQuotas() Quotas {
	return Quotas{RequestsPerSecond: 5000, Burst: 10000, Tables: 100, StoredBytes: 10 << 30}
}

// WithDefaults fills zero fields from d. A rate given without a burst
// takes a burst of two seconds of it, as the defaults have, rather than
// d's: a rate lowered to 5 a second with a burst of 10,000 would let
// 10,000 requests in at once.
func (q Quotas) WithDefaults(d Quotas) Quotas {
	if q.Burst == 0 {
		q.Burst = d.Burst
		if q.RequestsPerSecond > 0 {
			q.Burst = int(min(math.Ceil(2*q.RequestsPerSecond), 1e7))
		}
	}
	if q.RequestsPerSecond == 0 {
		q.RequestsPerSecond = d.RequestsPerSecond
	}
	if q.Tables == 0 {
		q.Tables = d.Tables
	}
	if q.StoredBytes == 0 {
		q.StoredBytes = d.StoredBytes
	}
	return q
}

// Validate checks quotas after defaults are applied.
func (q Quotas) Validate() error {
	switch {
	case q.RequestsPerSecond <= 0 || q.RequestsPerSecond > 1e7:
		return fmt.Errorf("requests_per_second %g: must be between 0 and 10,000,000", q.RequestsPerSecond)
	case q.Burst < 1 || q.Burst > 1e7:
		return fmt.Errorf("burst %d: must be between 1 and 10,000,000", q.Burst)
	case q.Tables < 1 || q.Tables > 100000:
		return fmt.Errorf("tables %d: must be between 1 and 100,000", q.Tables)
	case q.StoredBytes < 1:
		return fmt.Errorf("stored_bytes %d: must be positive", q.StoredBytes)
	}
	return nil
}

// APIKey is an API key as stored: never the secret, only its hash.
type APIKey struct {
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	Hash    string    `json:"hash"` // hex SHA-256 of the secret
	Created time.Time `json:"created"`
	Revoked bool      `json:"revoked,omitempty"`
}

// keyPrefix marks ringtable API keys so they are recognisable in logs and
// secret scanners.
const keyPrefix = "rt_"

// secretBytes is the entropy of a key: 256 bits.
const secretBytes = 32

// NewID returns a random identifier: 80 bits as 16 lower-case base32
// characters, usable as a subject token and a key field.
func NewID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// NewSecret returns a fresh API key secret: "rt_" and 256 random bits.
func NewSecret() string {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return keyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// ErrBadSecret is returned for strings that cannot be API keys.
var ErrBadSecret = errors.New("tenants: malformed API key")

// maxSecretLen bounds what is hashed without allocating; an API key is
// far shorter.
const maxSecretLen = 128

// Digest is the SHA-256 of a presented secret. The admin key's check and
// an API key's lookup both compare digests, so a request hashes its key
// once.
type Digest [sha256.Size]byte

// DigestOf hashes a presented secret, from a copy on the stack when it is
// no longer than maxSecretLen: converting the string to bytes would
// otherwise allocate on every request.
func DigestOf(secret string) Digest {
	var buf [maxSecretLen]byte
	if len(secret) <= len(buf) {
		return sha256.Sum256(buf[:copy(buf[:], secret)])
	}
	return sha256.Sum256([]byte(secret))
}

// Matches compares two digests in constant time (for the admin key, which
// is configured, not stored).
func (d Digest) Matches(o Digest) bool { return subtle.ConstantTimeCompare(d[:], o[:]) == 1 }

// HashSecret returns the hash under which a secret is stored and looked
// up. A fast hash is enough: secrets carry 256 random bits, so there is
// nothing to brute-force.
func HashSecret(secret string) (string, error) { return KeyHash(secret, DigestOf(secret)) }

// KeyHash is HashSecret for a secret whose digest is known.
func KeyHash(secret string, d Digest) (string, error) {
	var buf [KeyHashLen]byte
	h, err := AppendKeyHash(buf[:0], secret, d)
	return string(h), err
}

// KeyHashLen is the length of a key hash.
const KeyHashLen = 2 * len(Digest{})

// AppendKeyHash appends KeyHash's result to b, so that a lookup of a
// cached key can hash its secret without allocating.
func AppendKeyHash(b []byte, secret string, d Digest) ([]byte, error) {
	if !wellFormed(secret) {
		return b, ErrBadSecret
	}
	return hex.AppendEncode(b, d[:]), nil
}

// wellFormed reports whether secret has an API key's shape: the prefix
// and secretBytes in unpadded URL-safe base64 (checked by length and
// alphabet, which is what decoding it would check, without the copy).
func wellFormed(secret string) bool {
	body, ok := strings.CutPrefix(secret, keyPrefix)
	if !ok || len(body) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
