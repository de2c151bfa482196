package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"posd/engine/storetest/backends"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
)

// TestRouteRoleTenantMatrix calls every route of the router with every
// role of both shops on shop A's objects. A role too weak is a 403 (401
// without a token) in either shop. Shop B, allowed by its role, is answered
// exactly as if A's objects did not exist: the same status and code as the
// same request with made-up IDs (for its owner, 404 not_found), and no
// answer names anything of A's.
func TestRouteRoleTenantMatrix(t *testing.T) {
	e := newEnv(t)
	o := makeObjects(t, e)
	aIDs := []string{e.shop.loc, e.shop.loc2, e.shop.apple.ID, e.shop.cheese.ID, o.sale, o.ret, o.receipt, o.transfer, o.token, o.till,
		e.shop.anna.ID, e.shop.max.ID, o.shift, o.z}
	fake := strings.NewReplacer(
		e.shop.anna.ID, "01a21c00-0000-7000-8000-00000000000a", o.shift, "01a21c00-0000-7000-8000-00000000000b",
		o.z, "01a21c00-0000-7000-8000-00000000000c",
		e.shop.loc, "01a21c00-0000-7000-8000-000000000001", e.shop.loc2, "01a21c00-0000-7000-8000-000000000002",
		e.shop.apple.ID, "01a21c00-0000-7000-8000-000000000003", e.shop.cheese.ID, "01a21c00-0000-7000-8000-000000000004",
		o.sale, "01a21c00-0000-7000-8000-000000000005", o.ret, "01a21c00-0000-7000-8000-000000000006",
		o.receipt, "01a21c00-0000-7000-8000-000000000007", o.transfer, "01a21c00-0000-7000-8000-000000000008",
		o.token, "01a21c00-0000-7000-8000-000000000009", o.till, "01a21c00-0000-7000-8000-00000000000a")
	roles := []string{"", "till", "bound-till", "manager", "owner"}
	tokens := map[string]map[string]string{
		"A": {"till": e.shop.till.Token, "bound-till": e.shop.boundTill.Token, "manager": e.shop.manager.Token, "owner": e.shop.owner.Token},
		"B": {"till": e.shopB.till.Token, "bound-till": e.shopB.boundTill.Token, "manager": e.shopB.manager.Token, "owner": e.shopB.owner.Token},
	}
	n, cells := 0, 0
	// Shop B first: at the end of its pass, A's documents must be as they
	// were; then shop A on its own objects.
	for _, tenant := range []string{"B", "A"} {
		if tenant == "A" {
			checkUnchanged(t, e, o)
		}
		for _, rt := range e.api.Routes() {
			need, ok := minRole[rt.Name]
			if !ok {
				t.Errorf("route %s is missing from the test's role table", rt.Name)
				continue
			}
			method, path, body := request(e, o, rt.Name)
			if method != rt.Method {
				t.Errorf("route %s: the test has no request for it", rt.Name)
				continue
			}
			for _, role := range roles {
				if rt.Name == "tokens.revoke" && tenant == "A" && role == "owner" {
					continue // would revoke a token the other cells need
				}
				cells++
				n++
				key := fmt.Sprintf("rrt-%d", n)
				b := expandBody(body, key, n)
				tok := tokens[tenant][role]
				res, got := e.raw(method, path, tok, key, "application/json", b)
				rank := map[string]int{"till": 1, "bound-till": 1, "manager": 2, "owner": 3}
				allowed := need == "" || (role != "" && rank[role] >= rank[need])
				if res.StatusCode >= 400 {
					errorShape(t, got)
				}
				switch {
				case !allowed && role == "" && res.StatusCode != 401:
					t.Errorf("%s by %s without token: %d, want 401", rt.Name, tenant, res.StatusCode)
				case !allowed && role != "" && res.StatusCode != 403:
					t.Errorf("%s by %s %s: %d, want 403 (%s)", rt.Name, tenant, role, res.StatusCode, got)
				case allowed && res.StatusCode >= 500:
					t.Errorf("%s by %s %s: %d (%s)", rt.Name, tenant, role, res.StatusCode, got)
				case allowed && tenant == "A" && (res.StatusCode == 401 || res.StatusCode == 403) && !(role == "bound-till" && rt.Name == "sales.create"):
					t.Errorf("%s by A %s: %d, want allowed (%s)", rt.Name, role, res.StatusCode, got)
				case allowed && tenant == "B":
					n++
					key2 := fmt.Sprintf("rrt-%d", n)
					res2, got2 := e.raw(method, fake.Replace(path), tok, key2, "application/json", fake.Replace(expandBody(body, key2, n)))
					if res.StatusCode != res2.StatusCode || codeOf(got) != codeOf(got2) {
						t.Errorf("%s by B %s on A's objects: %d %s; on objects that do not exist: %d %s", rt.Name, role, res.StatusCode, codeOf(got), res2.StatusCode, codeOf(got2))
					}
					// And for the owner, whom no role rule stops, that
					// answer is a 404.
					if role == "owner" && names(path+b, aIDs) && (res.StatusCode != http.StatusNotFound || codeOf(got) != engine.ENOTFOUND) {
						t.Errorf("%s by B owner on A's objects: %d %s, want 404 %s", rt.Name, res.StatusCode, codeOf(got), engine.ENOTFOUND)
					}
				}
				if tenant == "B" {
					for _, id := range aIDs {
						if bytes.Contains(got, []byte(id)) {
							t.Errorf("%s by B %s shows A's object %s: %s", rt.Name, role, id, got)
						}
					}
				}
			}
		}
	}
	if cells < 200 {
		t.Errorf("only %d cells in the matrix", cells)
	}
}

// names reports whether s names any of ids.
func names(s string, ids []string) bool {
	for _, id := range ids {
		if strings.Contains(s, id) {
			return true
		}
	}
	return false
}

// checkUnchanged fails if shop A's documents changed.
func checkUnchanged(t *testing.T, e *env, o objects) {
	t.Helper()
	sale, err := e.shop.owner.Sale(context.Background(), o.sale)
	must(t, err)
	rc, err := e.shop.owner.Receipt(context.Background(), o.receipt)
	must(t, err)
	tr, err := e.shop.owner.Transfer(context.Background(), o.transfer)
	must(t, err)
	if len(sale.Returns) != 1 || rc.Status != engine.StatusDraft || tr.Status != engine.StatusDraft {
		t.Errorf("shop B changed shop A's documents: %d returns, receipt %s, transfer %s", len(sale.Returns), rc.Status, tr.Status)
	}
}

func codeOf(b []byte) string {
	m := regexp.MustCompile(`"code":"([a-z_]+)"`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// TestNoTokenBytesAtRest makes tokens of every role and then scans the
// database file for each secret, in text and as its raw random bytes: only
// hashes may be stored, and replays of POST /tokens carry "token": null.
func TestNoTokenBytesAtRest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secrets := []string{e.shop.owner.Token, e.shop.manager.Token, e.shop.till.Token, e.shop.boundTill.Token, e.shopB.owner.Token}
	for i := 0; i < 20; i++ {
		key := fmt.Sprintf("tok-%d", i)
		tk, err := e.shop.owner.CreateToken(ctx, key, client.TokenRequest{Role: engine.RoleTill, Name: key})
		must(t, err)
		secrets = append(secrets, *tk.Secret)
		res, err := e.shop.owner.Do(ctx, "POST", "/api/tokens", key, client.TokenRequest{Role: engine.RoleTill, Name: key})
		must(t, err)
		if !res.Replayed || !bytes.Contains(res.Body, []byte(`"token":null`)) {
			t.Errorf("replay of POST /tokens: %s", res.Body)
		}
	}
	scanSecrets(t, "database", backends.Raw(t, e.store), secrets)
}

// scanSecrets fails if any secret, or its 32 random bytes, is in data.
func scanSecrets(t *testing.T, what string, data []byte, secrets []string) {
	t.Helper()
	if len(secrets) == 0 {
		t.Fatal("no secrets to look for")
	}
	for _, s := range secrets {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, "posd_"))
		if err != nil || len(raw) != 32 {
			t.Fatalf("secret %q is not posd_ + 32 bytes", s)
		}
		if bytes.Contains(data, []byte(s)) || bytes.Contains(data, []byte(strings.TrimPrefix(s, "posd_"))) {
			t.Errorf("the %s holds a token secret in clear", what)
		}
		if bytes.Contains(data, raw) {
			t.Errorf("the %s holds a token's raw bytes", what)
		}
	}
}

// dialFrom returns an HTTP client whose connections come from a given
// loopback address: on Linux all of 127.0.0.0/8 is the local machine, so
// one test can play many devices on the LAN.
func dialFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

// TestDistributedTokenGuessing plays the realistic attack on a shop LAN:
// one compromised device that takes several addresses (or several
// devices) and guesses tokens from all of them at once. Every address is
// answered 429 after its burst, no guess ever gets through, the total of
// wrong guesses answered is bounded by addresses × burst, and a real till
// on another address is never refused meanwhile.
func TestDistributedTokenGuessing(t *testing.T) {
	if _, err := net.Listen("tcp", "127.0.0.9:0"); err != nil {
		t.Skipf("no 127.0.0.0/8 beyond 127.0.0.1 here: %v", err)
	}
	e := newEnv(t)
	const attackers, guesses = 8, 60
	var unauthorized, limited, other atomic.Int64
	var wg sync.WaitGroup
	for a := 0; a < attackers; a++ {
		wg.Add(1)
		go func(a int) {
			defer wg.Done()
			c := dialFrom(fmt.Sprintf("127.0.1.%d", a+1))
			for g := 0; g < guesses; g++ {
				req, _ := http.NewRequest("GET", e.srv.URL+"/api/sales", nil)
				req.Header.Set("Authorization", fmt.Sprintf("Bearer posd_%043d", a*1000+g))
				res, err := c.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch res.StatusCode {
				case 401:
					unauthorized.Add(1)
				case 429:
					limited.Add(1)
					if res.Header.Get("Retry-After") == "" {
						t.Error("429 without Retry-After")
					}
				default:
					other.Add(1)
				}
			}
		}(a)
	}
	till := dialFrom("127.0.2.1")
	tillOK, tillFail := 0, 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for loop := true; loop; {
		select {
		case <-done:
			loop = false
		default:
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/products", nil)
		req.Header.Set("Authorization", "Bearer "+e.shop.till.Token)
		res, err := till.Do(req)
		if err == nil && res.StatusCode == 200 {
			tillOK++
		} else {
			tillFail++
		}
		if res != nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	t.Logf("%d addresses × %d guesses: %d answered 401, %d answered 429, %d other; the till: %d ok, %d refused",
		attackers, guesses, unauthorized.Load(), limited.Load(), other.Load(), tillOK, tillFail)
	// Failures age out at one per 3 s, so a slow test may see a few more.
	if max := int64(attackers * 22); unauthorized.Load() > max {
		t.Errorf("%d wrong guesses were answered 401, want at most %d (burst 20 per address)", unauthorized.Load(), max)
	}
	if limited.Load() < int64(attackers*(guesses-25)) || other.Load() != 0 {
		t.Errorf("%d guesses answered 429 and %d otherwise", limited.Load(), other.Load())
	}
	if tillFail != 0 || tillOK == 0 {
		t.Errorf("the real till was refused %d times (%d ok) during the attack", tillFail, tillOK)
	}
}

// TestSlowClientsDoNotStarveTills runs slow-header (slowloris) clients and
// clients that push oversized bodies at posd's real HTTP server settings,
// and requires a till's sales to keep succeeding meanwhile.
func TestSlowClientsDoNotStarveTills(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	hs := api.HTTPServer(ln.Addr().String(), e.api)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var slowConns, bigRefused atomic.Int64
	// 300 connections that send a header one byte at a time.
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			slowConns.Add(1)
			hdr := "POST /api/sales HTTP/1.1\r\nHost: posd\r\nAuthorization: Bearer " + strings.Repeat("x", 1000)
			for j := 0; j < len(hdr); j++ {
				if _, err := c.Write([]byte{hdr[j]}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
	}
	// 5 clients that keep sending bodies of 4 MiB, with a valid token.
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", "http://"+addr+"/api/sales", io.LimitReader(zeroes{}, 4<<20))
				req.Header.Set("Authorization", "Bearer "+e.shop.till.Token)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("big-%d-%d", i, k))
				res, err := http.DefaultClient.Do(req)
				if err == nil {
					if res.StatusCode == 413 {
						bigRefused.Add(1)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			}
		}(i)
	}
	time.Sleep(300 * time.Millisecond)
	till := client.New("http://"+addr, e.shop.till.Token)
	till.Retry = &client.NoRetry
	ok, failed := 0, 0
	var slowest time.Duration
	for i := 0; i < 20; i++ {
		start := time.Now()
		_, err := till.CreateSale(context.Background(), "", e.shop.saleRequest("1"))
		if err != nil {
			failed++
			t.Logf("till sale %d: %v", i, err)
		} else {
			ok++
		}
		slowest = max(slowest, time.Since(start))
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d slow-header connections, %d oversized bodies refused 413; the till: %d sales ok, %d failed, slowest %s", slowConns.Load(), bigRefused.Load(), ok, failed, slowest)
	if failed != 0 {
		t.Errorf("%d of the till's sales failed while slow clients ran", failed)
	}
	if bigRefused.Load() == 0 || slowConns.Load() < 200 {
		t.Errorf("the attack did not run: %d slow connections, %d bodies refused", slowConns.Load(), bigRefused.Load())
	}
}

// zeroes is an endless body.
type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
