package client

import (
	"strings"
	"testing"
)

func TestOptionsCheck(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		op  string
		o   Options
		bad string // the option refused, "" for none
	}{
		{"Get", Options{R: 3, Strict: &yes}, ""},
		{"Get", Options{W: 2}, "W"},
		{"Get", Options{Context: "AQ"}, "Context"},
		{"Get", Options{TTL: 5}, "TTL"},
		{"Put", Options{W: 3, Context: "AQ", TTL: 5, Strict: &yes}, ""},
		{"Put", Options{R: 2}, "R"},
		{"Delete", Options{W: 3, Context: "AQ"}, ""},
		{"Delete", Options{TTL: 5}, "TTL"},
		{"Delete", Options{R: 1}, "R"},
	} {
		_, _, err := writeQuery(tc.op, tc.o)
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%s %+v: %v", tc.op, tc.o, err)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), "Options."+tc.bad)):
			t.Errorf("%s %+v: error %v, want Options.%s refused", tc.op, tc.o, err, tc.bad)
		}
	}
}
