package messaging

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

// JetStream's clustered metadata is a Raft group of every server that ever
// ran JetStream in the NATS cluster: a server that goes away for good is
// still counted in its quorum until it is removed. A storage node that left
// the ring takes its embedded server with it, so after two such departures
// in a cluster of four, one more failure would leave the change feed
// stream without a leader. And a server that lost its disk votes "empty",
// which NATS does not count towards a quorum while a member it has never
// heard from could hold newer state: with a departed member still listed,
// a replaced node cannot help elect a leader at all.

// errCodeNotMember is JetStream's error code for a removal of a server
// that is not (or no longer) a member of the metadata group.
const errCodeNotMember = 10044

// RemoveJetStreamPeer removes the server named name from the cluster's
// JetStream metadata group (its stream replicas move to the remaining
// servers), through a short-lived connection of the system account. It
// is done, and returns nil, when the server is no longer a member.
func (a *Auth) RemoveJetStreamPeer(ctx context.Context, urls []string, name string) error {
	nc, err := a.systemConn(urls, "ringtable-peers")
	if err != nil {
		return err
	}
	defer nc.Close()
	// By peer ID as well as by name: the metadata leader knows a server's
	// name only once it has heard from it since its own start.
	req, _ := json.Marshal(map[string]string{"peer": name, "peer_id": jetStreamPeerID(name)})
	m, err := nc.RequestWithContext(ctx, "$JS.API.SERVER.REMOVE", req)
	if err != nil {
		return fmt.Errorf("messaging: removing %s from JetStream's cluster: %w", name, err)
	}
	var resp struct {
		Error *struct {
			Code        int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return fmt.Errorf("messaging: removing %s from JetStream's cluster: bad answer %q", name, m.Data)
	}
	if resp.Error != nil && resp.Error.Code != errCodeNotMember {
		return fmt.Errorf("messaging: removing %s from JetStream's cluster: %s", name, resp.Error.Description)
	}
	return nil
}

// jetStreamPeerID is the Raft peer ID a NATS server derives from its name:
// the first 8 bytes of the name's SHA-256, each mapped onto 62 digits.
func jetStreamPeerID(name string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(name))
	var id [8]byte
	for i := range id {
		id[i] = digits[sum[i]%62]
	}
	return string(id[:])
}
