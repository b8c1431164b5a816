package loadgen_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ringtable/ringtable/gateway/client"
	"github.com/ringtable/ringtable/loadgen"
)

// A request still waiting for its answer when the run ends is cut off by
// the run, not failed by the gateway: it must come back as the run's
// deadline, which the generator does not count as an error, however the
// HTTP client reports the cut (a timeout while writing the request or
// while reading the answer).
func TestRequestCutOffByTheRunsEndIsNotAnError(t *testing.T) {
	for _, gw := range []struct {
		name   string
		answer string // what it sends once it has read a request
	}{
		{"a gateway that never answers", ""},
		{"a gateway that stops halfway through an answer", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"items\":"},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 4096)
					for {
						if _, err := c.Read(buf); err != nil {
							return
						}
						if gw.answer != "" {
							c.Write([]byte(gw.answer))
						}
					}
				}()
			}
		}()
		items, err := loadgen.NewItems(client.New("http://"+ln.Addr().String(), nil), "t", 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range []string{"get", "put"} {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			if op == "get" {
				_, err = items.Get(ctx, "k", 0)
			} else {
				_, _, err = items.Put(ctx, "k", []byte(`{"id":"k"}`), 0, "")
			}
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %s cut off by the run's end: got %v, want the run's deadline", gw.name, op, err)
			}
		}
	}
}
