package storagenode

import "testing"

// Scripted interleavings of the hint loop's scans with hints noted (each
// once committed): a scan skipped or run at each tick.
func TestScanGate(t *testing.T) {
	type step struct {
		do   string // "tick": the loop's tick (begin; every scan here finds nothing, so foundNone); "note": a hint committed
		race bool   // for a tick: a hint is committed while the scan runs, after its view was taken
		want bool   // for a tick: whether it scans
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a restart scans once for the hints of the last life", []step{
			{do: "tick", want: true}, {do: "tick", want: false}, {do: "tick", want: false},
		}},
		{"a hint noted opens the gate", []step{
			{do: "tick", want: true}, {do: "note"}, {do: "tick", want: true}, {do: "tick", want: false},
		}},
		{"a hint committed during an empty scan is scanned for again", []step{
			{do: "tick", want: true}, {do: "note"}, {do: "tick", race: true, want: true}, {do: "tick", want: true}, {do: "tick", want: false},
		}},
		{"hints noted twice between ticks need one scan", []step{
			{do: "tick", want: true}, {do: "note"}, {do: "note"}, {do: "tick", want: true}, {do: "tick", want: false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g scanGate
			g.note() // as newHandoff does
			for i, s := range tc.steps {
				if s.do == "note" {
					g.note()
					continue
				}
				at, scans := g.begin()
				if scans != s.want {
					t.Fatalf("step %d: scans %v, want %v", i, scans, s.want)
				}
				if !scans {
					continue
				}
				if s.race {
					g.note() // committed after the scan's view: it finds nothing
				}
				g.foundNone(at)
			}
		})
	}
}
