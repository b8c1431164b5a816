package messaging

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FeedCredentials is what a tenant needs to read its change feed over
// NATS (see auth.go for what the credentials allow).
type FeedCredentials struct {
	Tenant string `json:"tenant"`
	// Account is the public key of the tenant's NATS account.
	Account string `json:"account"`
	// Creds is a NATS credentials file (user JWT and seed), as nats.go's
	// UserCredentials and the nats CLI's --creds read it.
	Creds string `json:"creds"`
	// Subject matches the tenant's feed subjects, one per table:
	// <prefix>.feed.<tenant>.<table>.
	Subject string `json:"subject"`
	// Stream is the JetStream stream in the tenant's account that keeps
	// its events for replay (consumers start at a sequence or a time).
	Stream string `json:"stream"`
	// Servers are NATS URLs the issuing gateway knows.
	Servers []string `json:"servers"`
}

// DefaultTenantLimits are the limits of a tenant's NATS account.
func DefaultTenantLimits() TenantLimits {
	return TenantLimits{StreamBytes: 1 << 30, Connections: 64}
}

// IssueFeedCredentials creates or refreshes a tenant's NATS account, makes
// sure the stream that keeps its events in that account exists, and
// returns credentials of a fresh user of it. Credentials issued before
// stay valid until the tenant is revoked.
func (c *Conn) IssueFeedCredentials(ctx context.Context, tenant string, lim TenantLimits) (*FeedCredentials, error) {
	if c.auth == nil {
		return nil, ErrNoAccounts
	}
	a := c.auth
	kp, err := a.tenantAccount(tenant)
	if err != nil {
		return nil, err
	}
	acc, err := a.tenantAccountJWT(tenant, kp, lim)
	if err != nil {
		return nil, fmt.Errorf("messaging: tenant account: %w", err)
	}
	if err := a.pushAccount(ctx, c.urls, acc); err != nil {
		return nil, err
	}
	tok, seed, err := userCreds(kp, "feed-"+tenant, a.tenantPermissions(tenant))
	if err != nil {
		return nil, fmt.Errorf("messaging: tenant user: %w", err)
	}
	creds, err := jwt.FormatUserConfig(tok, seed)
	if err != nil {
		return nil, fmt.Errorf("messaging: tenant user: %w", err)
	}
	pub, _ := kp.PublicKey()
	fc := &FeedCredentials{Tenant: tenant, Account: pub, Creds: string(creds), Subject: c.subj.FeedTenant(tenant),
		Stream: FeedStreamName(c.subj.prefix), Servers: c.nc.Servers()}
	if err := c.ensureTenantStream(ctx, tok, string(seed), fc); err != nil {
		return nil, err
	}
	return fc, nil
}

// ensureTenantStream creates the tenant's own stream with its own
// credentials, with the retention and replicas of the cluster's feed
// stream.
func (c *Conn) ensureTenantStream(ctx context.Context, tok, seed string, fc *FeedCredentials) error {
	retention, replicas := DefaultFeedConfig().Retention, 1
	if js, err := jetstream.New(c.nc); err == nil {
		if s, err := js.Stream(ctx, FeedStreamName(c.subj.prefix)); err == nil {
			retention, replicas = s.CachedInfo().Config.MaxAge, s.CachedInfo().Config.Replicas
		}
	}
	var nc *nats.Conn
	var err error
	// The account was just pushed; a server that has not stored it yet
	// refuses the user for a moment.
	for attempt := 0; ; attempt++ {
		nc, err = nats.Connect(strings.Join(c.urls, ","), nats.UserJWTAndSeed(tok, seed), nats.Name("ringtable-feed-setup"))
		if err == nil || attempt == 20 || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("messaging: connecting as the tenant: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("messaging: tenant JetStream: %w", err)
	}
	sc := jetstream.StreamConfig{
		Name:        fc.Stream,
		Description: "change events of tenant " + fc.Tenant,
		Subjects:    []string{fc.Subject},
		MaxAge:      retention,
		Storage:     jetstream.FileStorage,
		Duplicates:  DefaultFeedConfig().Duplicates,
		Discard:     jetstream.DiscardOld,
	}
	for r := replicas; r >= 1; r-- {
		sc.Replicas = r
		if _, err = js.CreateOrUpdateStream(ctx, sc); err == nil {
			return nil
		}
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) {
			break
		}
	}
	return fmt.Errorf("messaging: the tenant's stream: %w", err)
}

// RevokeFeedCredentials invalidates every user of a tenant's NATS account
// and removes its feed import: for a deleted tenant.
func (c *Conn) RevokeFeedCredentials(ctx context.Context, tenant string) error {
	if c.auth == nil {
		return nil
	}
	kp, err := c.auth.tenantAccount(tenant)
	if err != nil {
		return err
	}
	acc, err := c.auth.tenantAccountJWT(tenant, kp, TenantLimits{Revoked: true})
	if err != nil {
		return err
	}
	return c.auth.pushAccount(ctx, c.urls, acc)
}

// HasAccounts reports whether the bus runs with accounts (a cluster
// secret), so feed credentials can be issued.
func (c *Conn) HasAccounts() bool { return c.auth != nil }
