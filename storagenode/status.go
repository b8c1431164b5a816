package storagenode

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/ring"
)

// Status is what a node reports about itself and its view of the cluster.
type Status struct {
	Node          string           `json:"node"`
	Actor         string           `json:"actor"`
	Epoch         string           `json:"epoch"`
	Transitioning bool             `json:"transitioning"`
	Members       []MemberStatus   `json:"members"`
	Transfers     []TransferStatus `json:"transfers"`
	Limits        Limits           `json:"limits"`
	Hints         map[string]int   `json:"hints"` // hinted keys pending, by target node
	AAE           AAEStatus        `json:"aae"`
	State         membership.State `json:"state"`
	// Leave is what this node's leave waits for once every member is
	// ready for the ring without it (absent otherwise).
	Leave *LeaveWait `json:"leave,omitempty"`
}

// LeaveWait is what only a leaving node can pass on: its leave completes
// once both are zero. Events wait while the feed stream is unreachable,
// hints while their owners are.
type LeaveWait struct {
	Events int `json:"events"` // change events it stamped not yet in the feed stream
	Hints  int `json:"hints"`  // hints it holds for other members
}

// MemberStatus is one member as this node sees it.
type MemberStatus struct {
	ID     string            `json:"id"`
	Status membership.Status `json:"status"`
	// Reachable is absent for a member that has left: no node exchanges
	// gossip with it any more, so nothing is known of it.
	Reachable  *bool   `json:"reachable,omitempty"`
	Partitions int     `json:"partitions"` // primary ownership in the serving ring
	Share      float64 `json:"share"`
	Ready      bool    `json:"ready"`
}

// Status returns the node's status.
func (n *Node) Status() Status {
	snap := n.cl.snap.Load()
	st := snap.state
	out := Status{Node: n.cfg.ID, Actor: string(n.eng.Actor()), Epoch: st.Epoch(), Transitioning: st.Transitioning(),
		Transfers: n.xfers.snapshot(), Limits: n.limits.current(), State: st, Hints: n.handoff.Pending(), AAE: n.aae.status(), Leave: n.cl.leaveWait.Load()}
	for _, m := range st.Sorted() {
		ms := MemberStatus{ID: m.ID, Status: m.Status, Ready: m.Ready == out.Epoch}
		if m.Status != membership.Left {
			reachable := m.ID == n.cfg.ID || !slices.Contains(snap.unreachable, m.ID)
			ms.Reachable = &reachable
		}
		if snap.serving != nil {
			ms.Partitions = len(snap.serving.Partitions(ring.NodeID(m.ID)))
			ms.Share = float64(ms.Partitions) / float64(snap.serving.Q())
		}
		out.Members = append(out.Members, ms)
	}
	return out
}

func (n *Node) status(req *wire.StatusRequest) *wire.Reply {
	b, _ := json.Marshal(n.Status())
	return &wire.Reply{Tag: req.Tag, Data: b}
}

func (n *Node) adminOp(req *wire.AdminRequest) *wire.Reply {
	r := &wire.Reply{Tag: req.Tag}
	var err error
	switch req.Op {
	case "repair":
		// Runs in the background; progress shows in the node's status.
		tenant, table, _ := strings.Cut(req.Arg, "/")
		if n.aae.running.Load() {
			err = errRunning
			break
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.aae.Run(n.ctx, tenant, table); err != nil {
				n.log.Warn("repair", "err", err)
			}
		}()
	case "join", "leave":
		ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
		err = n.cl.admin(ctx, req.Op)
		cancel()
	default:
		err = n.limits.set(req.Op, req.Value)
	}
	if err != nil {
		r.Code, r.Message = wire.CodeBadRequest, err.Error()
	}
	return r
}

// Repair runs one anti-entropy pass over every partition the node
// replicates and waits for it.
func (n *Node) Repair(ctx context.Context) error { return n.aae.Run(ctx, "", "") }

// Join asks the node to join the ring (when started with auto-join off).
func (n *Node) Join(ctx context.Context) error { return n.cl.admin(ctx, "join") }

// Leave asks the node to hand its partitions over and leave the ring.
func (n *Node) Leave(ctx context.Context) error { return n.cl.admin(ctx, "leave") }
