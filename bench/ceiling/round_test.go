package main

import (
	"context"
	"testing"
	"time"

	"github.com/ringtable/ringtable/messaging"
)

// A round counts only replies that carry its own number: a reply left
// over from an earlier round on the same reply subject arrives first
// here, and the round must wait for its own.
func TestRoundIgnoresRepliesOfEarlierRounds(t *testing.T) {
	sc := messaging.DefaultServerConfig()
	sc.Listen = "127.0.0.1:0"
	ns, err := messaging.StartServer(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := messaging.Connect(ctx, messaging.ClientConfig{URLs: []string{ns.ClientURL()}, Name: "t", Prefix: "ceiling"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	caller, err := conn.NewCaller()
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()

	// "stale" answers at once with the number of the round before; "own"
	// answers with the request's own number only after that.
	staleSent := make(chan struct{})
	if _, err := conn.Subscribe("t.stale", func(m *messaging.Msg) {
		n := append([]byte(nil), m.Data[:roundLen]...)
		n[roundLen-1]-- // an earlier round's number
		_ = conn.Respond(m, append(n, 'k'))
		close(staleSent)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Subscribe("t.own", func(m *messaging.Msg) {
		<-staleSent
		time.Sleep(20 * time.Millisecond) // the stale reply is routed first
		_ = conn.Respond(m, append(m.Data[:roundLen:roundLen], "own"...))
	}); err != nil {
		t.Fatal(err)
	}
	b := &bench{caller: caller}
	got, err := b.round([]string{"t.stale", "t.own"}, getPayload([]byte("k")), 1, func(p []byte) bool { return len(p) > 0 })
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "own" {
		t.Errorf("round returned %q, want the reply of its own round (\"own\")", got)
	}
	if n := b.late.Load(); n != 1 {
		t.Errorf("%d late replies counted, want 1", n)
	}
}
