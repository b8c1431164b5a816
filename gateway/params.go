package gateway

import (
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
	"get":          {"r", "strict"},
	"put":          {"w", "ttl", "strict"},
	"delete":       {"w", "strict"},
	"feed":         {"from_seq", "from_time"},
	"admin_status": {"node"},
	"admin_repair": {"tenant", "table"},
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

// checkParams refuses a query that cannot be parsed, or that holds a
// parameter outside allowed.
func checkParams(raw string, allowed []string) error {
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return badRequest("query string %q: %v", raw, err)
	}
	for name := range q {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return badRequest("unknown query parameter %q: this request takes none", name)
			}
			return badRequest("unknown query parameter %q: this request takes %s", name, strings.Join(allowed, ", "))
		}
	}
	return nil
}
