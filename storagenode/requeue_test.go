package storagenode

import (
	"slices"
	"testing"
)

// Events whose publish failed go back in commit order, whatever order
// their flights failed in: ahead of what was not sent, behind what an
// earlier flight put back.
func TestRequeueKeepsCommitOrder(t *testing.T) {
	entries := func(seqs ...uint64) []*outboxEntry {
		var out []*outboxEntry
		for _, s := range seqs {
			out = append(out, &outboxEntry{seq: s})
		}
		return out
	}
	for _, tc := range []struct {
		name          string
		queue, failed []uint64
		want          []uint64
	}{
		{"into an empty queue", nil, []uint64{3, 4}, []uint64{3, 4}},
		{"ahead of what was not sent", []uint64{7, 8}, []uint64{3, 5}, []uint64{3, 5, 7, 8}},
		{"behind an earlier flight's", []uint64{1, 2, 7}, []uint64{3, 5}, []uint64{1, 2, 3, 5, 7}},
		{"ahead of a later flight's", []uint64{6, 7, 9}, []uint64{3, 4}, []uint64{3, 4, 6, 7, 9}},
	} {
		p := &publisher{}
		p.mu.queue = entries(tc.queue...)
		p.requeue(entries(tc.failed...))
		var got []uint64
		for _, e := range p.mu.queue {
			got = append(got, e.seq)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: queue %v, want %v", tc.name, got, tc.want)
		}
	}
}
