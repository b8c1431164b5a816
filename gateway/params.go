package gateway

import (
	"maps"
	"net/url"
	"slices"
	"strings"
)

// queryParams are the query parameters each operation reads. Any other is
// refused before the handler runs: a misspelt ?ttl= or ?w= would
// otherwise be dropped, and the write would never expire, or be
// acknowledged by fewer replicas than the client asked for, without a
// word.
var queryParams = map[string][]string{
	"get":           {"r", "strict"},
	"put":           {"w", "ttl", "strict"},
	"delete":        {"w", "strict"},
	"feed":          {"from_seq", "from_time"},
	"admin_status":  {"node"},
	"admin_repair":  {"tenant", "table"},
	"admin_node_op": {"force"},
}

// paramsOf returns the query parameters the route of pattern and op
// reads. The /item form of an item's address carries its keys in the
// query (for keys a path cannot hold, such as "..").
func paramsOf(pattern, op string) []string {
	p := queryParams[op]
	if strings.HasSuffix(pattern, "/item") {
		p = append([]string{"pk", "sk"}, p...)
	}
	return p
}

// checkParams parses a query once for the handlers, which read it from
// the request's Form, and refuses one that cannot be parsed, that holds a
// parameter outside allowed, or one parameter twice (the handlers would
// read the first and drop the other). An empty query gives nil values,
// whose every parameter reads as "".
func checkParams(raw string, allowed []string) (url.Values, error) {
	if raw == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("query string %q: %v", raw, err)
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(allowed, name) && len(allowed) == 0:
			return nil, badRequest("unknown query parameter %q: this request takes none", name)
		case !slices.Contains(allowed, name):
			return nil, badRequest("unknown query parameter %q: this request takes %s", name, strings.Join(allowed, ", "))
		case len(q[name]) > 1:
			return nil, badRequest("query parameter %q is given %d times: give it once", name, len(q[name]))
		}
	}
	return q, nil
}
