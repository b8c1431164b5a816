package gateway

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// countingConn counts the reads that reach the socket.
type countingConn struct {
	net.Conn
	reads int
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads++
	return c.Conn.Read(p)
}

// loopback returns both ends of a TCP connection on the loopback address.
func loopback(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// A request's first byte, read alone as fasthttp does, brings the rest
// of a small request with it: the read after it reaches no socket.
func TestSmallReadTakesWhatArrived(t *testing.T) {
	client, server := loopback(t)
	raw := &countingConn{Conn: server}
	c := &trackedConn{Conn: raw}
	req := "PUT /v1/tables/t/items/k HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
	if _, err := client.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1)
	if n, err := c.Read(first); n != 1 || err != nil {
		t.Fatalf("first byte: %d, %v", n, err)
	}
	var rest []byte
	buf := make([]byte, 64<<10)
	for len(rest) < len(req)-1 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("rest after %q: %v", rest, err)
		}
		rest = append(rest, buf[:n]...)
	}
	if got := string(first) + string(rest); got != req {
		t.Fatalf("read %q, sent %q", got, req)
	}
	if raw.reads != 1 {
		t.Fatalf("%d reads of the socket for one request, want 1", raw.reads)
	}
}

// Bytes come out in the order they were sent, whatever the sizes of the
// reads, for a request larger than the connection's buffer too; the
// socket's end comes after the last of them.
func TestSmallReadsKeepTheStreamWhole(t *testing.T) {
	client, server := loopback(t)
	c := &trackedConn{Conn: server}
	sent := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), 1000) // 36000 bytes
	go func() {
		client.Write(sent)
		client.Close()
	}()
	var got []byte
	sizes := []int{1, 3, smallRead - 1, 1, 64 << 10, 2, 100}
	for i := 0; ; i++ {
		buf := make([]byte, sizes[i%len(sizes)])
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("read %d bytes, sent %d; equal prefix %d", len(got), len(sent), commonPrefix(got, sent))
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
