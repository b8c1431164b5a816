package tenants

import "testing"

func TestQuotasWithDefaults(t *testing.T) {
	d := Quotas{RequestsPerSecond: 5000, Burst: 10000, Tables: 100, StoredBytes: 10 << 30}
	for _, tc := range []struct {
		name     string
		in, want Quotas
	}{
		{"nothing given", Quotas{}, d},
		{"a rate alone takes two seconds of it as burst", Quotas{RequestsPerSecond: 5}, Quotas{5, 10, 100, 10 << 30}},
		{"a fractional rate rounds its burst up", Quotas{RequestsPerSecond: 0.2}, Quotas{0.2, 1, 100, 10 << 30}},
		{"a huge rate's burst stays within bounds", Quotas{RequestsPerSecond: 9e6}, Quotas{9e6, 1e7, 100, 10 << 30}},
		{"a burst given is kept", Quotas{RequestsPerSecond: 5, Burst: 50}, Quotas{5, 50, 100, 10 << 30}},
		{"a burst alone keeps the rate", Quotas{Burst: 7}, Quotas{5000, 7, 100, 10 << 30}},
		{"tables and bytes alone", Quotas{Tables: 3, StoredBytes: 1 << 20}, Quotas{5000, 10000, 3, 1 << 20}},
		{"a negative rate is left for Validate", Quotas{RequestsPerSecond: -1}, Quotas{-1, 10000, 100, 10 << 30}},
	} {
		got := tc.in.WithDefaults(d)
		if got != tc.want {
			t.Errorf("%s: %+v.WithDefaults = %+v, want %+v", tc.name, tc.in, got, tc.want)
		}
		if tc.in.RequestsPerSecond >= 0 {
			if err := got.Validate(); err != nil {
				t.Errorf("%s: %+v: %v", tc.name, got, err)
			}
		}
	}
}
