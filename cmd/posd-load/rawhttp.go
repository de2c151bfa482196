//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// rawConn is a till's keep-alive HTTP/1.1 connection, written by hand for
// the tills' requests only. The load generator shares the machine with the
// server it measures; net/http's client spent about as much CPU per request
// as a bare server does, which both crowds the server and caps the bare-HTTP
// ceiling. This one writes a request with one write and parses just the
// status, Content-Length or chunked framing, Connection and the replay
// header. Set-up and verification keep using net/http (api/client).
type rawConn struct {
	addr    string // host:port to dial
	host    string // Host header
	timeout time.Duration
	c       net.Conn
	r       *bufio.Reader
	req     []byte
}

func newRawConn(baseURL string, timeout time.Duration) (*rawConn, error) {
	hostport, ok := bytes.CutPrefix([]byte(baseURL), []byte("http://"))
	if !ok {
		return nil, fmt.Errorf("only http:// URLs are supported, not %q", baseURL)
	}
	if i := bytes.IndexByte(hostport, '/'); i >= 0 {
		hostport = hostport[:i]
	}
	addr := string(hostport)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "80")
	}
	return &rawConn{addr: addr, host: string(hostport), timeout: timeout}, nil
}

func (c *rawConn) close() {
	if c.c != nil {
		c.c.Close()
		c.c, c.r = nil, nil
	}
}

func (c *rawConn) dial() error {
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c.c, c.r = conn, bufio.NewReaderSize(conn, 8192)
	return nil
}

// answer is what a request got back.
type answer struct {
	status int
	replay bool
}

// do sends one request and reads the whole answer's body into body. A
// request on a kept-alive connection that the server had closed in the
// meantime is sent again on a new one only when nothing of it can have
// been read (the write failed).
func (c *rawConn) do(method, path string, hdr [][2]string, payload []byte, body *bytes.Buffer) (answer, error) {
	c.req = c.req[:0]
	c.req = append(c.req, method...)
	c.req = append(c.req, ' ')
	c.req = append(c.req, path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.host...)
	c.req = append(c.req, "\r\n"...)
	for _, h := range hdr {
		c.req = append(c.req, h[0]...)
		c.req = append(c.req, ": "...)
		c.req = append(c.req, h[1]...)
		c.req = append(c.req, "\r\n"...)
	}
	if payload != nil {
		c.req = append(c.req, "Content-Length: "...)
		c.req = strconv.AppendInt(c.req, int64(len(payload)), 10)
		c.req = append(c.req, "\r\n"...)
	}
	c.req = append(c.req, "\r\n"...)
	c.req = append(c.req, payload...)
	for attempt := 0; ; attempt++ {
		fresh := c.c == nil
		if fresh {
			if err := c.dial(); err != nil {
				return answer{}, err
			}
		}
		c.c.SetDeadline(time.Now().Add(c.timeout))
		if _, err := c.c.Write(c.req); err != nil {
			c.close()
			if !fresh && attempt == 0 {
				continue
			}
			return answer{}, err
		}
		a, keep, err := c.read(body)
		if err != nil || !keep {
			c.close()
		}
		return a, err
	}
}

var errBadAnswer = errors.New("malformed HTTP answer")

// read parses one answer; keep is false when the connection must close.
func (c *rawConn) read(body *bytes.Buffer) (a answer, keep bool, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return a, false, err
	}
	// "HTTP/1.1 201 Created\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return a, false, errBadAnswer
	}
	a.status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return a, false, errBadAnswer
	}
	keep = line[7] == '1'
	length, chunked := -1, false
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return a, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return a, false, errBadAnswer
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return a, false, errBadAnswer
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keep = true
			}
		case bytes.EqualFold(name, []byte("X-Idempotent-Replay")):
			a.replay = bytes.Equal(value, []byte("true"))
		}
	}
	body.Reset()
	switch {
	case chunked:
		for {
			line, err = c.r.ReadSlice('\n')
			if err != nil {
				return a, false, err
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
			if err != nil || size < 0 {
				return a, false, errBadAnswer
			}
			if size == 0 {
				for { // trailers, then the blank line
					line, err = c.r.ReadSlice('\n')
					if err != nil {
						return a, false, err
					}
					if len(bytes.TrimRight(line, "\r\n")) == 0 {
						return a, keep, nil
					}
				}
			}
			if _, err := io.CopyN(body, c.r, size+2); err != nil {
				return a, false, err
			}
			body.Truncate(body.Len() - 2)
		}
	case length >= 0:
		_, err = io.CopyN(body, c.r, int64(length))
		return a, keep && err == nil, err
	default: // the body runs to the end of the connection
		_, err = body.ReadFrom(c.r)
		return a, false, err
	}
}
