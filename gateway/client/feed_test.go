package client

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadSSEEndOfStream(t *testing.T) {
	var n int
	err := ReadSSE(strings.NewReader("data: {}\n\ndata: {\"unterminated\": 1}\n"), func(SSEEvent) error { n++; return nil })
	if n != 1 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("events %d, err %v", n, err)
	}
	stop := errors.New("stop")
	if err := ReadSSE(strings.NewReader("data: 1\n\n"), func(SSEEvent) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
}

func TestReadSSEFields(t *testing.T) {
	in := ": keep-alive\n\nid: 7\nevent: change\ndata: {\"pk\":\ndata: \"b\"}\n\nretry: 100\ndata: x\n\n"
	var got []SSEEvent
	err := ReadSSE(strings.NewReader(in), func(e SSEEvent) error { got = append(got, e); return nil })
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("end of stream: %v", err)
	}
	if len(got) != 2 || got[0].ID != "7" || got[0].Event != "change" || string(got[0].Data) != "{\"pk\":\n\"b\"}" ||
		got[1].ID != "7" || got[1].Event != "" || string(got[1].Data) != "x" {
		t.Errorf("events %+v", got)
	}
	long := "data: " + strings.Repeat("a", maxFeedLine+1) + "\n\n"
	if err := ReadSSE(strings.NewReader(long), func(SSEEvent) error { return nil }); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("over-long line: %v", err)
	}
}
