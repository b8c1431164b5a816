package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ringtable/ringtable/membership"
	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/messaging/wire"
	"github.com/ringtable/ringtable/ring"
)

// Operator views of the cluster. The gateway relays them from the nodes,
// whose status documents it passes through as they are.
func (g *Gateway) clusterRoutes(mux *http.ServeMux) {
	g.adminRoute(mux, "GET /v1/admin/status", "admin_status", g.adminStatus)
	g.adminRoute(mux, "GET /v1/admin/ring", "admin_ring", g.adminRing)
	g.adminRoute(mux, "GET /v1/admin/nodes", "admin_nodes", g.adminNodes)
	g.adminRoute(mux, "POST /v1/admin/nodes/{node}/{op}", "admin_node_op", g.adminNodeOp)
	g.adminRoute(mux, "PUT /v1/admin/limits", "admin_limits", g.adminLimits)
	g.adminRoute(mux, "POST /v1/admin/repair", "admin_repair", g.adminRepair)
}

// adminRepair starts an anti-entropy run on every node, for every table or
// one (?tenant=ID&table=NAME); progress shows in the nodes' status.
func (g *Gateway) adminRepair(w http.ResponseWriter, r *http.Request) (int, error) {
	arg := ""
	tenant, table := r.Form.Get("tenant"), r.Form.Get("table")
	if (tenant == "") != (table == "") {
		return 0, badRequest("a repair of one table needs both tenant (an ID) and table (a name)")
	}
	if table != "" {
		// The tenant first: an unknown one would otherwise read as an
		// unknown table.
		if _, _, err := g.reg.readTenant(r.Context(), tenant); err != nil {
			if errors.Is(err, ErrNotFound) {
				err = g.reg.hintTenantName(r.Context(), tenant, err)
			}
			return 0, err
		}
		t, err := g.cat.lookup(r.Context(), tenant, table)
		if err != nil {
			return 0, err
		}
		arg = tenant + "/" + t.ID
	}
	started := []string{}
	for n := range g.broadcast(r.Context(), g.alive(), &wire.AdminRequest{Op: "repair", Arg: arg}, 5*time.Second) {
		started = append(started, n)
	}
	sort.Strings(started)
	writeJSON(w, http.StatusOK, map[string]any{"started": started})
	return http.StatusOK, nil
}

// ask sends one request to one node and returns its reply.
func (g *Gateway) ask(ctx context.Context, node string, m wire.Message) (*wire.Reply, error) {
	if !messaging.ValidToken(node) {
		return nil, badRequest("%q is not a node ID", node)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	data, err := g.conn.Request(ctx, g.subj.NodeOp(node, m.Type().String()), wire.Encode(m))
	if errors.Is(err, messaging.ErrNoResponders) {
		// Nothing listens on the node's subject: a typo, or a node that
		// is down. Say which, as the member list sees it.
		members := g.Members().Sorted()
		ids := make([]string, len(members))
		for i, mb := range members {
			if mb.ID == node {
				return nil, fmt.Errorf("node %s: %w: a member (%s) that does not answer; it is down or cut off", node, ErrUnavailable, mb.Status)
			}
			ids[i] = mb.ID
		}
		return nil, fmt.Errorf("node %s: %w: no node of that ID answers (members: %s)", node, ErrNotFound, strings.Join(ids, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	dm, err := wire.Decode(data)
	if err != nil {
		return nil, err
	}
	r, ok := dm.(*wire.Reply)
	if !ok {
		return nil, fmt.Errorf("node %s: unexpected %v", node, dm.Type())
	}
	return r, r.Err()
}

// adminStatus is one node's status: its view of every member (state,
// reachability, share of the ring), its transfers and limits.
func (g *Gateway) adminStatus(w http.ResponseWriter, r *http.Request) (int, error) {
	node := r.Form.Get("node")
	if node == "" {
		alive := g.Members().Alive()
		if len(alive) == 0 {
			return 0, fmt.Errorf("no storage node known: %w", ErrNotFound)
		}
		node = alive[0]
	}
	rep, err := g.ask(r.Context(), node, &wire.StatusRequest{})
	if err != nil {
		return 0, err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(rep.Data)
	return http.StatusOK, nil
}

// adminNodes is every reachable node's status, keyed by node.
func (g *Gateway) adminNodes(w http.ResponseWriter, r *http.Request) (int, error) {
	out := map[string]json.RawMessage{}
	for n, rep := range g.broadcast(r.Context(), g.alive(), &wire.StatusRequest{}, 5*time.Second) {
		out[n] = rep.Data
	}
	writeJSON(w, http.StatusOK, out)
	return http.StatusOK, nil
}

// ringPartition is one partition of the ring view.
type ringPartition struct {
	Partition int      `json:"partition"`
	Primary   []string `json:"primary"`
	Fallbacks []string `json:"fallbacks"`
	Target    []string `json:"target,omitempty"` // the primary replicas once the pending change is done
}

func (g *Gateway) adminRing(w http.ResponseWriter, r *http.Request) (int, error) {
	serving := g.Ring()
	g.mem.mu.Lock()
	target := g.mem.target
	epoch := g.mem.state.Epoch()
	g.mem.mu.Unlock()
	names := func(ids []ring.NodeID) []string {
		out := make([]string, len(ids))
		for i, x := range ids {
			out[i] = string(x)
		}
		return out
	}
	parts := make([]ringPartition, serving.Q())
	owned := map[string]int{}
	for p := range serving.Q() {
		pl, fb := serving.Preference(ring.Partition(p), g.cfg.N)
		parts[p] = ringPartition{Partition: p, Primary: names(pl), Fallbacks: names(fb)}
		owned[string(serving.Owner(ring.Partition(p)))]++
		if target != nil {
			tp, _ := target.Preference(ring.Partition(p), g.cfg.N)
			parts[p].Target = names(tp)
		}
	}
	nodes := make([]string, 0, len(owned))
	for n := range owned {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	writeJSON(w, http.StatusOK, map[string]any{"q": serving.Q(), "n": g.cfg.N, "epoch": epoch, "changing": target != nil, "owned": owned, "partitions": parts})
	return http.StatusOK, nil
}

func (g *Gateway) adminNodeOp(w http.ResponseWriter, r *http.Request) (int, error) {
	op := r.PathValue("op")
	if op != "join" && op != "leave" {
		return 0, badRequest("unknown node operation %q: use join or leave", op)
	}
	force := false
	if s := r.Form.Get("force"); s != "" {
		var err error
		if force, err = strconv.ParseBool(s); err != nil {
			return 0, badRequest("force=%q: must be true or false", s)
		}
	}
	if op == "leave" && !force {
		if err := g.canLeave(r.PathValue("node")); err != nil {
			return 0, err
		}
	}
	if _, err := g.ask(r.Context(), r.PathValue("node"), &wire.AdminRequest{Op: op}); err != nil {
		return 0, err
	}
	writeJSON(w, http.StatusOK, map[string]string{"node": r.PathValue("node"), "op": op, "status": "started"})
	return http.StatusOK, nil
}

// canLeave refuses a leave that would leave fewer serving nodes than the
// default N: each key would then have fewer replicas than its table asks
// for, and a quorum is clamped to the replicas there are, so a write with
// w=3 would be acknowledged by two nodes.
func (g *Gateway) canLeave(node string) error {
	st := g.Members()
	if m, ok := st.Members[node]; !ok || (m.Status != membership.Active && m.Status != membership.Joining) {
		return nil // the node answers for itself
	}
	remaining := 0
	for id, m := range st.Members {
		if id != node && (m.Status == membership.Active || m.Status == membership.Joining) {
			remaining++
		}
	}
	if remaining < g.cfg.N {
		return fmt.Errorf("%w: without %s the ring would have %d node(s), fewer than the %d replicas each key should have (tables would keep %d copies, and a quorum larger than that would be met by fewer nodes than it names); add a node first, or leave anyway with force", ErrTooFewNodes, node, remaining, g.cfg.N, remaining)
	}
	return nil
}

// adminLimits changes the background rate limits of every node.
func (g *Gateway) adminLimits(w http.ResponseWriter, r *http.Request) (int, error) {
	var req struct {
		TransferBytesPerSec float64 `json:"transfer_bytes_per_sec"`
		HintsPerSec         float64 `json:"hints_per_sec"`
		AAEKeysPerSec       float64 `json:"aae_keys_per_sec"`
	}
	if err := decodeStrict(r.Body, 4<<10, &req); err != nil {
		return 0, err
	}
	type limit struct {
		field, op string // the request's name, the nodes' operation
		v         float64
	}
	var set []limit
	for _, l := range []limit{{"transfer_bytes_per_sec", "limit-transfer", req.TransferBytesPerSec}, {"hints_per_sec", "limit-hints", req.HintsPerSec}, {"aae_keys_per_sec", "limit-aae", req.AAEKeysPerSec}} {
		if l.v < 0 {
			return 0, badRequest("%s=%g: must be positive (0 or absent leaves the limit as it is)", l.field, l.v)
		}
		if l.v > 0 {
			set = append(set, l)
		}
	}
	if len(set) == 0 {
		return 0, badRequest("no limit given: set transfer_bytes_per_sec, hints_per_sec or aae_keys_per_sec")
	}
	// applied names, for each limit set, the nodes that took it.
	applied := map[string][]string{}
	for _, l := range set {
		nodes := []string{}
		for n := range g.broadcast(r.Context(), g.alive(), &wire.AdminRequest{Op: l.op, Value: l.v}, 5*time.Second) {
			nodes = append(nodes, n)
		}
		slices.Sort(nodes)
		applied[l.field] = nodes
	}
	writeJSON(w, http.StatusOK, map[string]any{"applied": applied})
	return http.StatusOK, nil
}
