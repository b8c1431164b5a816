package testcluster

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy between one client (a node) and the bus, for
// faults loopback cannot make by itself: a one-way partition, in which the
// client's messages still reach the bus but nothing comes back (a node
// whose publish was stored but whose PubAck was lost), and a client that
// hears its messages late (Hold).
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	armed *deafness      // the next one, taken by the first connection to match
	wg    sync.WaitGroup // the accepting loop

	held atomic.Pointer[chan struct{}] // closed on release; nil: not held
}

// deafness is one armed fault: once the client sends pattern, it hears
// nothing more for d, and then its connection is reset.
type deafness struct {
	pattern []byte
	d       time.Duration
	began   chan struct{}
}

// NewProxy listens on a loopback port and forwards each connection to the
// bus at busURL (nats://host:port); it stops with t.
func NewProxy(t testing.TB, busURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(busURL)
	if err != nil || u.Host == "" {
		t.Fatalf("testcluster: proxy to %q: want nats://host:port", busURL)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testcluster: proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: u.Host}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// ProxyNode is an Options.NodeBus that puts node id behind a new Proxy,
// which it stores in *p; the other nodes connect straight to the bus.
func ProxyNode(t testing.TB, id string, p **Proxy) func(node, url string) string {
	return func(node, url string) string {
		if node != id {
			return url
		}
		*p = NewProxy(t, url)
		return (*p).URL()
	}
}

// URL is the proxy's bus URL.
func (p *Proxy) URL() string { return "nats://" + p.ln.Addr().String() }

// DeafAfter arms the proxy: once the client sends bytes holding pattern
// (at most 256 bytes; forwarded to the bus all the same), the bus's bytes
// on that connection are dropped for d, and the connection is then reset,
// as a network that lost its way back for a while. The channel is closed
// when it begins.
func (p *Proxy) DeafAfter(pattern string, d time.Duration) <-chan struct{} {
	f := &deafness{pattern: []byte(pattern), d: d, began: make(chan struct{})}
	p.mu.Lock()
	p.armed = f
	p.mu.Unlock()
	return f.began
}

// Hold keeps what the bus sends to the client from reaching it until
// release is called, and then delivers it all in order, as to a node that
// was paused or behind a stalled link: it answers its requests late. The
// client's own messages go on reaching the bus. Keep a hold short (the
// bus takes a client that reads nothing for long for a slow consumer).
func (p *Proxy) Hold() (release func()) {
	ch := make(chan struct{})
	p.mu.Lock()
	p.unhold()
	p.held.Store(&ch)
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if h := p.held.Load(); h != nil && *h == ch {
			p.unhold()
		}
	}
}

// unhold ends the hold in force, if any; p.mu is held.
func (p *Proxy) unhold() {
	if h := p.held.Swap(nil); h != nil {
		close(*h)
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		var dropping atomic.Bool
		reset := func() { c.Close(); s.Close() }
		go func() { // client → bus, watching for the armed pattern
			defer reset()
			buf := make([]byte, 64<<10)
			var tail []byte // the end of the last read: a pattern may straddle two
			for {
				n, err := c.Read(buf)
				if n > 0 {
					p.mu.Lock()
					f := p.armed
					// Of the last read, only as much as a pattern that
					// straddles the two needs: one sent before it was
					// armed does not count.
					if f != nil && bytes.Contains(append(tail[max(0, len(tail)-len(f.pattern)+1):], buf[:n]...), f.pattern) {
						p.armed = nil
					} else {
						f = nil
					}
					p.mu.Unlock()
					if f != nil {
						dropping.Store(true) // before the bus can have answered
						close(f.began)
						time.AfterFunc(f.d, reset)
					}
					if _, err := s.Write(buf[:n]); err != nil {
						return
					}
					tail = append(tail, buf[max(0, n-256):n]...) // at most a pattern's length is needed
					tail = tail[max(0, len(tail)-256):]
				}
				if err != nil {
					return
				}
			}
		}()
		go func() { // bus → client, dropped while deaf, waiting while held
			defer reset()
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if h := p.held.Load(); n > 0 && h != nil {
					<-*h
				}
				if n > 0 && !dropping.Load() {
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// close stops accepting. Connections still open are left to their
// client, which the cluster closes after: t's cleanups run newest first,
// and the cluster's was registered before any proxy of its nodes.
func (p *Proxy) close() {
	p.mu.Lock()
	p.unhold()
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
