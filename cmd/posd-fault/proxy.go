//go:build linux

package main

import (
	"bytes"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// NetFaults is what the proxy does to the traffic between tills and posd.
type NetFaults struct {
	// Latency delays every chunk, each way.
	Latency time.Duration
	// BytesPerSec limits each direction of each connection; 0 is no limit.
	BytesPerSec int
	// LoseResponse is the fraction of POST answers the proxy throws away
	// after posd has started answering, that is after the write reached
	// posd and was committed: it resets the till's connection instead.
	LoseResponse float64
	// Reset is the chance, per chunk, of resetting a connection mid-stream.
	Reset float64
	// Down is an outage: connections are reset as they come, and those
	// open are reset at once.
	Down bool
}

// Proxy is an in-process TCP proxy between the tills and posd that injects
// network faults. With several targets (posd processes on one PostgreSQL
// database) it is also their load balancer: each connection goes to the
// next target that accepts it, round robin, as an L4 balancer does.
type Proxy struct {
	Targets []string
	next    atomic.Uint64
	ln      net.Listener
	faults  atomic.Pointer[NetFaults]
	mu      sync.Mutex
	conns   map[*pconn]struct{}
	closed  bool
	wg      sync.WaitGroup

	// LostResponses counts answers thrown away after reaching the proxy;
	// Resets counts other resets.
	LostResponses, Resets atomic.Int64
}

type pconn struct {
	client, server net.Conn
	// writePending is set when a POST went up and no answer came back yet.
	writePending atomic.Bool
	once         sync.Once
}

// reset closes both sides, the till's with RST.
func (c *pconn) reset() {
	c.once.Do(func() {
		if tc, ok := c.client.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.client.Close()
		c.server.Close()
	})
}

// NewProxy listens on a free loopback port and forwards to the targets.
func NewProxy(targets ...string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Targets: targets, ln: ln, conns: map[*pconn]struct{}{}}
	p.faults.Store(&NetFaults{})
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is where the tills connect.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set changes the faults; an outage also resets every open connection.
func (p *Proxy) Set(f NetFaults) {
	p.faults.Store(&f)
	if f.Down {
		p.mu.Lock()
		for c := range p.conns {
			c.reset()
		}
		p.mu.Unlock()
	}
}

// Close stops the proxy and resets every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.reset()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		cc, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.faults.Load().Down {
			if tc, ok := cc.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			cc.Close()
			p.Resets.Add(1)
			continue
		}
		sc, err := p.dial()
		if err != nil {
			// posd is down: the till sees what it would see without proxy.
			if tc, ok := cc.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			cc.Close()
			continue
		}
		c := &pconn{client: cc, server: sc}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.reset()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, true)
		go p.pipe(c, false)
	}
}

// pipe copies one direction of a connection, applying the faults.
func (p *Proxy) pipe(c *pconn, up bool) {
	defer p.wg.Done()
	defer func() {
		c.reset()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	src, dst := c.server, c.client
	if up {
		src, dst = c.client, c.server
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f := p.faults.Load()
			chunk := buf[:n]
			if up {
				if bytes.HasPrefix(chunk, []byte("POST ")) {
					c.writePending.Store(true)
				}
			} else if c.writePending.Swap(false) && f.LoseResponse > 0 && rand.Float64() < f.LoseResponse {
				p.LostResponses.Add(1)
				return
			}
			if f.Reset > 0 && rand.Float64() < f.Reset {
				p.Resets.Add(1)
				return
			}
			if f.Latency > 0 {
				time.Sleep(f.Latency)
			}
			for len(chunk) > 0 {
				part := chunk
				if f.BytesPerSec > 0 {
					step := max(f.BytesPerSec/20, 64)
					if len(part) > step {
						part = part[:step]
					}
					time.Sleep(time.Duration(len(part)) * time.Second / time.Duration(f.BytesPerSec))
				}
				if _, err := dst.Write(part); err != nil {
					return
				}
				chunk = chunk[len(part):]
			}
		}
		if err != nil {
			// Either side closing ends the connection: HTTP needs no
			// half-closed connections.
			return
		}
	}
}

// dial connects to the next target that accepts, starting after the last
// one used.
func (p *Proxy) dial() (net.Conn, error) {
	start := p.next.Add(1)
	var err error
	for i := range p.Targets {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", p.Targets[(int(start)+i)%len(p.Targets)], 2*time.Second); err == nil {
			return c, nil
		}
	}
	return nil, err
}
