package gateway

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ringtable/ringtable/messaging"
)

func TestFeedStart(t *testing.T) {
	at := time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		query, lastID string
		want          messaging.FeedStart
		err           string // a part of the error, "" for none
	}{
		{query: "", want: messaging.FeedStart{}},
		{query: "from_seq=5", want: messaging.FeedStart{Seq: 5}},
		{query: "from_time=2025-01-02T15:04:05Z", want: messaging.FeedStart{Time: at}},
		{lastID: "7", want: messaging.FeedStart{Seq: 8}},
		// EventSource reconnects with the URL it opened and the last id.
		{query: "from_seq=5", lastID: "7", want: messaging.FeedStart{Seq: 8}},
		{query: "from_seq=1&from_time=2025-01-02T15:04:05Z", err: "give one start, not both"},
		{query: "from_seq=0", err: "from_seq=\"0\": must be a sequence number"},
		{query: "from_seq=x", err: "from_seq=\"x\": must be a sequence number"},
		{query: "from_time=yesterday", err: "from_time=\"yesterday\": must be an RFC 3339 time"},
		{lastID: "x", err: "Last-Event-ID \"x\""},
	} {
		r := httptest.NewRequest("GET", "/v1/tables/t/feed?"+tc.query, nil)
		if tc.lastID != "" {
			r.Header.Set("Last-Event-ID", tc.lastID)
		}
		// The route parses the query into Form before its handler runs.
		var err error
		if r.Form, err = checkParams(r.URL.RawQuery, paramsOf("GET /v1/tables/{table}/feed", "feed")); err != nil {
			t.Fatalf("?%s: %v", tc.query, err)
		}
		got, err := feedStart(r)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("?%s, Last-Event-ID %q: %v", tc.query, tc.lastID, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("?%s, Last-Event-ID %q: error %v, want one saying %q", tc.query, tc.lastID, err, tc.err)
		case tc.err == "" && (got.Seq != tc.want.Seq || !got.Time.Equal(tc.want.Time)):
			t.Errorf("?%s, Last-Event-ID %q: start %+v, want %+v", tc.query, tc.lastID, got, tc.want)
		}
		var bad *BadRequestError
		if tc.err != "" && err != nil && !errors.As(err, &bad) {
			t.Errorf("?%s: %T is not a bad request", tc.query, err)
		}
	}
}
