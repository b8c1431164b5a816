package messaging

// NATS accounts: how internal traffic is kept apart from tenants.
//
// With a cluster secret, every embedded server runs in operator (JWT) mode,
// and every identity on the bus is derived from that one secret, so each
// ringtable process that is given it agrees on them without any file to
// distribute:
//
//   - the operator, which every server trusts;
//   - the system account, which servers use for their own traffic (and
//     through which account JWTs are pushed);
//   - the internal account, where all of ringtable's traffic lives:
//     replica requests, gossip, system notices, and the JetStream stream of
//     change events. Nodes and gateways connect to it as users signed by
//     its key. It exports <prefix>.feed.*.> as a private stream: importing
//     any part of it needs an activation token signed by the internal
//     account;
//   - one account per tenant that was given feed credentials, its key
//     derived from the tenant ID. Its JWT imports <prefix>.feed.<tenant>.>
//     with an activation token for exactly that subject, and allows
//     JetStream within the account. Its users may subscribe to that feed
//     and to reply inboxes, and publish only to their own account's
//     JetStream API: a subscription or publish anywhere else (replica or
//     gossip subjects, another tenant's feed) is refused by the server with
//     a permissions violation, and even a subject the user may use reaches
//     nothing of the internal account, which is not imported.
//
// Accounts are resolved by NATS's own "full" resolver: each embedded
// server keeps account JWTs in a directory, the system and internal
// accounts are preloaded at start (each server derives them itself), and a
// tenant's account JWT, pushed once on $SYS.REQ.CLAIMS.UPDATE when its
// credentials are issued, reaches every server of a NATS cluster (those
// that were down then fetch it from their peers), so accounts are added
// at run time without a configuration reload.
//
// Without a secret the bus runs as before: one global account, no
// authentication, change feeds published but not isolated, and no feed
// credentials can be issued.

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// secretPrefix marks cluster secrets so they are recognisable.
const secretPrefix = "rtcs_"

// ErrNoAccounts is returned when feed credentials are asked of a bus that
// runs without a cluster secret (no accounts to isolate tenants with).
var ErrNoAccounts = errors.New("messaging: the bus runs without a cluster secret: no NATS accounts, no feed credentials")

// NewClusterSecret returns a fresh cluster secret: 256 random bits.
func NewClusterSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// LoadOrCreateClusterSecret reads the secret in path, creating it (mode
// 0600) if the file does not exist.
func LoadOrCreateClusterSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("messaging: cluster secret: %w", err)
	}
	s := NewClusterSecret()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("messaging: cluster secret: %w", err)
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("messaging: cluster secret: %w", err)
	}
	return s, nil
}

// Auth holds the bus identities derived from one cluster secret. It is
// safe for concurrent use.
type Auth struct {
	subj     Subjects
	operator nkeys.KeyPair
	sys      nkeys.KeyPair
	internal nkeys.KeyPair
	secret   []byte
	opJWT    *jwt.OperatorClaims
}

// NewAuth derives the identities of the cluster whose secret is given, for
// subjects with prefix.
func NewAuth(secret, prefix string) (*Auth, error) {
	// A secret made by NewClusterSecret carries its 256 bits in base64;
	// any other long enough string is used as it is.
	secret = strings.TrimSpace(secret)
	b := []byte(secret)
	if raw, ok := strings.CutPrefix(secret, secretPrefix); ok {
		var err error
		if b, err = base64.RawURLEncoding.DecodeString(raw); err != nil {
			return nil, errors.New("messaging: malformed cluster secret")
		}
	}
	if len(b) < 16 {
		return nil, errors.New("messaging: a cluster secret needs at least 16 random bytes (e.g. `openssl rand -base64 32`)")
	}
	subj, err := NewSubjects(prefix)
	if err != nil {
		return nil, err
	}
	a := &Auth{subj: subj, secret: b}
	if a.operator, err = a.derive(nkeys.PrefixByteOperator, "operator"); err != nil {
		return nil, err
	}
	if a.sys, err = a.derive(nkeys.PrefixByteAccount, "account/system"); err != nil {
		return nil, err
	}
	if a.internal, err = a.derive(nkeys.PrefixByteAccount, "account/internal"); err != nil {
		return nil, err
	}
	opPub, _ := a.operator.PublicKey()
	sysPub, _ := a.sys.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "ringtable"
	oc.SystemAccount = sysPub
	tok, err := oc.Encode(a.operator)
	if err != nil {
		return nil, fmt.Errorf("messaging: operator JWT: %w", err)
	}
	if a.opJWT, err = jwt.DecodeOperatorClaims(tok); err != nil {
		return nil, fmt.Errorf("messaging: operator JWT: %w", err)
	}
	return a, nil
}

// derive makes the key pair named label from the secret.
func (a *Auth) derive(prefix nkeys.PrefixByte, label string) (nkeys.KeyPair, error) {
	seed, err := hkdf.Key(sha256.New, a.secret, nil, "ringtable nats "+label, 32)
	if err != nil {
		return nil, fmt.Errorf("messaging: deriving %s: %w", label, err)
	}
	kp, err := nkeys.FromRawSeed(prefix, seed)
	if err != nil {
		return nil, fmt.Errorf("messaging: deriving %s: %w", label, err)
	}
	return kp, nil
}

// systemAccountJWT and internalAccountJWT are preloaded by every server.
func (a *Auth) systemAccountJWT() (pub, token string, err error) {
	pub, _ = a.sys.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "SYS"
	token, err = ac.Encode(a.operator)
	return pub, token, err
}

func (a *Auth) internalAccountJWT() (pub, token string, err error) {
	pub, _ = a.internal.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "ringtable"
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1, MaxAckPending: -1}
	ac.Exports.Add(&jwt.Export{
		Name:     "change feeds",
		Subject:  jwt.Subject(a.subj.feedAll()),
		Type:     jwt.Stream,
		TokenReq: true, // a tenant imports its own feed only, with a token
	})
	token, err = ac.Encode(a.operator)
	return pub, token, err
}

// configureServer puts a server in operator mode with the full resolver
// in dir.
func (a *Auth) configureServer(opts *server.Options, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("messaging: account directory: %w", err)
	}
	res, err := server.NewDirAccResolver(dir, 0, time.Minute, server.NoDelete, server.FetchTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("messaging: account resolver: %w", err)
	}
	for _, f := range []func() (string, string, error){a.systemAccountJWT, a.internalAccountJWT} {
		pub, tok, err := f()
		if err != nil {
			res.Close()
			return fmt.Errorf("messaging: account JWT: %w", err)
		}
		if err := res.Store(pub, tok); err != nil {
			res.Close()
			return fmt.Errorf("messaging: account JWT: %w", err)
		}
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{a.opJWT}
	opts.SystemAccount, _ = a.sys.PublicKey()
	opts.AccountResolver = res
	return nil
}

// userCreds returns a fresh user of the account whose key is acc, with the
// given permissions (nil: unrestricted).
func userCreds(acc nkeys.KeyPair, name string, perm *jwt.Permissions) (token string, seed []byte, err error) {
	ukp, err := nkeys.CreateUser()
	if err != nil {
		return "", nil, err
	}
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = name
	if perm != nil {
		uc.Permissions = *perm
	}
	if token, err = uc.Encode(acc); err != nil {
		return "", nil, err
	}
	seed, err = ukp.Seed()
	return token, seed, err
}

// internalUser is the nats.go option that connects as a user of the
// internal account.
func (a *Auth) internalUser(name string) (nats.Option, error) {
	tok, seed, err := userCreds(a.internal, name, nil)
	if err != nil {
		return nil, fmt.Errorf("messaging: internal user: %w", err)
	}
	return nats.UserJWTAndSeed(tok, string(seed)), nil
}

// tenantAccount returns the derived key of a tenant's account.
func (a *Auth) tenantAccount(tenant string) (nkeys.KeyPair, error) {
	if !ValidToken(tenant) {
		return nil, fmt.Errorf("messaging: tenant ID %q is not a subject token", tenant)
	}
	return a.derive(nkeys.PrefixByteAccount, "account/tenant/"+tenant)
}

// TenantLimits bound what a tenant's account may use.
type TenantLimits struct {
	// StreamBytes bounds the JetStream storage of the account (its own
	// copy of its feed) (default 1 GiB).
	StreamBytes int64
	// Connections bounds the account's concurrent connections (default
	// 64).
	Connections int64
	// Revoked, when set, makes the account's every user invalid and its
	// feed import absent: a deleted tenant.
	Revoked bool
}

// tenantAccountJWT builds the account of a tenant: its feed imported with
// an activation token, JetStream for its own stream.
func (a *Auth) tenantAccountJWT(tenant string, kp nkeys.KeyPair, lim TenantLimits) (string, error) {
	pub, _ := kp.PublicKey()
	internalPub, _ := a.internal.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "tenant-" + tenant
	if lim.Revoked {
		ac.Revocations = jwt.RevocationList{}
		ac.Revocations.Revoke(jwt.All, time.Now())
		ac.Limits.Conn = 0
		return ac.Encode(a.operator)
	}
	subject := a.subj.FeedTenant(tenant)
	act := jwt.NewActivationClaims(pub)
	act.Name = "feed of " + tenant
	act.ImportSubject = jwt.Subject(subject)
	act.ImportType = jwt.Stream
	token, err := act.Encode(a.internal)
	if err != nil {
		return "", err
	}
	ac.Imports.Add(&jwt.Import{Name: "feed", Subject: jwt.Subject(subject), Account: internalPub, Token: token, Type: jwt.Stream})
	ac.Limits.Conn = lim.Connections
	ac.Limits.LeafNodeConn = 0
	ac.Limits.Exports = 0
	ac.Limits.WildcardExports = false
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: 64 << 20, DiskStorage: lim.StreamBytes, Streams: 4, Consumer: 256, MaxAckPending: -1}
	return ac.Encode(a.operator)
}

// tenantPermissions lets a tenant's users read their feed and use their
// own account's JetStream, nothing else.
func (a *Auth) tenantPermissions(tenant string) *jwt.Permissions {
	p := &jwt.Permissions{}
	p.Pub.Allow.Add("$JS.API.>", "$JS.ACK.>", "$JS.FC.>")
	p.Sub.Allow.Add(a.subj.FeedTenant(tenant), "_INBOX.>")
	return p
}

// systemConn connects to the system account, for the requests only it
// may make (account updates, JetStream's cluster membership).
func (a *Auth) systemConn(urls []string, name string) (*nats.Conn, error) {
	utok, seed, err := userCreds(a.sys, "ringtable-admin", nil)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.UserJWTAndSeed(utok, string(seed)), nats.Name(name))
	if err != nil {
		return nil, fmt.Errorf("messaging: system account connection: %w", err)
	}
	return nc, nil
}

// pushAccount stores an account JWT in the cluster's resolvers, through a
// short-lived connection of the system account.
func (a *Auth) pushAccount(ctx context.Context, urls []string, token string) error {
	nc, err := a.systemConn(urls, "ringtable-accounts")
	if err != nil {
		return err
	}
	defer nc.Close()
	m, err := nc.RequestWithContext(ctx, "$SYS.REQ.CLAIMS.UPDATE", []byte(token))
	if err != nil {
		return fmt.Errorf("messaging: pushing an account JWT: %w", err)
	}
	var resp struct {
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return fmt.Errorf("messaging: pushing an account JWT: bad answer %q", m.Data)
	}
	if resp.Error != nil {
		return fmt.Errorf("messaging: pushing an account JWT: %s", resp.Error.Description)
	}
	return nil
}

// ServerConfig renders the part of a nats-server configuration file that
// makes an external NATS server (or each server of an external cluster)
// trust this cluster's identities, as the embedded servers do: operator
// mode, the full resolver in resolverDir, the system and internal
// accounts preloaded, and JetStream under storeDir.
func (a *Auth) ServerConfig(resolverDir, storeDir string) (string, error) {
	op, err := a.opJWT.Encode(a.operator)
	if err != nil {
		return "", err
	}
	sysPub, sysJWT, err := a.systemAccountJWT()
	if err != nil {
		return "", err
	}
	inPub, inJWT, err := a.internalAccountJWT()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`# ringtable: accounts derived from the cluster secret (keep this file private
# only as much as the JWTs are: it holds no secret key).
operator: %s
system_account: %s
resolver: {
  type: full
  dir: %q
  allow_delete: false
  interval: "1m"
}
resolver_preload: {
  %s: %s
  %s: %s
}
jetstream: {
  store_dir: %q
}
`, op, sysPub, resolverDir, sysPub, sysJWT, inPub, inJWT, storeDir), nil
}
