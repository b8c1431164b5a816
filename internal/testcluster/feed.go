package testcluster

import (
	"context"
	"time"

	"github.com/ringtable/ringtable/messaging"
)

// StopGateway stops gateway i as a crash would look from outside: its
// HTTP server and bus connection go away. Its requests in flight are
// abandoned. Stopping a stopped gateway does nothing.
func (c *Cluster) StopGateway(i int) {
	g := c.Gateways[i]
	g.stop.Do(func() {
		g.cancel()
		<-g.done
		g.GW.Close()
		g.conn.Close()
	})
}

// Connect opens a bus connection of the internal account, as a node or a
// gateway has; the cluster closes it at the end of the test.
func (c *Cluster) Connect(name string) *messaging.Conn {
	c.t.Helper()
	conn := c.connect(name)
	c.t.Cleanup(conn.Close)
	return conn
}

// FeedCredentials issues NATS credentials for a tenant's change feed
// through gateway 0's admin API path, as `ringtable admin tenant
// feed-credentials` does.
func (c *Cluster) FeedCredentials(tenant string) *messaging.FeedCredentials {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fc, err := c.Gateways[0].GW.FeedCredentials(ctx, tenant)
	if err != nil {
		c.t.Fatalf("testcluster: feed credentials of %s: %v", tenant, err)
	}
	return fc
}
