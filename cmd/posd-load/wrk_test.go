//go:build linux

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseWrkOut reads what the Lua script's done writes, and refuses
// output that does not add up.
func TestParseWrkOut(t *testing.T) {
	out := "summary 10000000 5 0 0 0 1 0\n" +
		"latency 900 1500 4000 9000 1100.500\n" +
		"thread 1 3 2 3\nstatus 409 1\nn INV-202612-0001\nn INV-202612-0003\n" +
		"thread 2 3 2 2\nn INV-202612-0002\nn INV-202612-0004\n"
	r, err := parseWrkOut([]byte(out), true)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seconds != 10 || r.Requests != 5 || r.OK != 4 || r.Sent != 6 || r.Non2xx["409"] != 1 || r.SocketErrors != 0 {
		t.Errorf("parsed %+v", r)
	}
	if r.Latency.P50 != 0.9 || r.Latency.P99 != 4 || r.Latency.Max != 9 || len(r.numbers) != 4 || r.numbers[3] != "INV-202612-0004" {
		t.Errorf("latency %+v, numbers %v", r.Latency, r.numbers)
	}
	for name, bad := range map[string]string{
		"numbers short of the 2xx": strings.Replace(out, "n INV-202612-0004\n", "", 1),
		"answers disagree":         strings.Replace(out, "thread 2 3 2 2", "thread 2 3 2 1", 1),
		"no summary":               strings.Replace(out, "summary 10000000 5 0 0 0 1 0\n", "", 1),
		"unknown line":             out + "bogus 1\n",
	} {
		if _, err := parseWrkOut([]byte(bad), true); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	// Without the response callback the 2xx are the answers minus wrk's
	// count of statuses above 399.
	r, err = parseWrkOut([]byte("summary 2000000 100 0 0 0 3 1\nlatency 1 2 3 4 1.5\nthread 1 101 0 0\n"), false)
	if err != nil || r.OK != 97 || r.Non2xx[">399"] != 3 || r.SocketErrors != 1 {
		t.Errorf("uncounted: %+v, %v", r, err)
	}
}

// TestCheckWrkSales: the verification passes on a clean run and fails on
// each kind of discrepancy.
func TestCheckWrkSales(t *testing.T) {
	stored := func(nums ...string) []storedSale {
		var s []storedSale
		for i, n := range nums {
			s = append(s, storedSale{id: "sale-" + n + "-" + string(rune('a'+i)), number: n})
		}
		return s
	}
	base := &baseline{}
	good := checkWrkSales([]string{"INV-202612-0001", "INV-202612-0002"}, 0, stored("INV-202612-0003", "INV-202612-0002", "INV-202612-0001"), base, 1)
	if !good.OK || good.Extra != 1 || good.Series[0] != "INV-202612 1..3" {
		t.Errorf("clean run: %+v", good)
	}
	// Two acknowledged by number, two by count, one more committed.
	good = checkWrkSales([]string{"INV-202612-0001", "INV-202612-0004"}, 2, stored("INV-202612-0003", "INV-202612-0002", "INV-202612-0001", "INV-202612-0004", "INV-202612-0005"), base, 3)
	if !good.OK || good.Extra != 1 || good.Acknowledged != 4 || good.ByNumber != 2 {
		t.Errorf("clean run, partly by count: %+v", good)
	}
	for name, v := range map[string]*WrkVerification{
		"acknowledged, not stored":                checkWrkSales([]string{"INV-202612-0001", "INV-202612-0002"}, 0, stored("INV-202612-0001"), base, 5),
		"stored twice":                            checkWrkSales([]string{"INV-202612-0001"}, 0, stored("INV-202612-0001", "INV-202612-0001"), base, 5),
		"acknowledged twice":                      checkWrkSales([]string{"INV-202612-0001", "INV-202612-0001"}, 0, stored("INV-202612-0001"), base, 5),
		"gap":                                     checkWrkSales([]string{"INV-202612-0001", "INV-202612-0003"}, 0, stored("INV-202612-0001", "INV-202612-0003"), base, 5),
		"more extra sales than in flight":         checkWrkSales([]string{"INV-202612-0001"}, 0, stored("INV-202612-0001", "INV-202612-0002", "INV-202612-0003"), base, 1),
		"fewer stored than acknowledged by count": checkWrkSales([]string{"INV-202612-0001"}, 2, stored("INV-202612-0001", "INV-202612-0002"), base, 5),
		"not from the baseline on":                checkWrkSales([]string{"INV-202612-0001"}, 0, stored("INV-202612-0001"), &baseline{series: "INV-202612", n: 4}, 0),
	} {
		if v.OK || len(v.Findings) == 0 {
			t.Errorf("%s: verification passed: %+v", name, v)
		}
	}
}

func TestLuaString(t *testing.T) {
	if got, want := luaString("a\"b\\c\r\n\x01é"), `"a\"b\\c\013\010\001\195\169"`; got != want {
		t.Errorf("luaString: %s, want %s", got, want)
	}
}

// TestWrkSmoke runs posd-load wrk briefly against the real posd binary:
// both targets at two connection counts, every acknowledged sale verified
// in the file, the tables printed and the JSON written.
func TestWrkSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds posd and runs wrk")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed (make bench-wrk installs it)")
	}
	bin := filepath.Join(t.TempDir(), "posd")
	if out, err := exec.Command("go", "build", "-o", bin, "posd/cmd/posd").CombinedOutput(); err != nil {
		t.Fatalf("build posd: %v\n%s", err, out)
	}
	out := filepath.Join(t.TempDir(), "wrk.json")
	var stdout, stderr strings.Builder
	err := runWrk(context.Background(), []string{"--posd", bin, "--seconds", "1s", "--warmup", "1s", "--conns", "1,4", "--skip-pg", "--products", "20", "--out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("wrk: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"| posd | 4 |", "| bare net/http echo | 1 |", "every acknowledged sale stored once", "posd verify: All checks passed"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res WrkResult
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	v := res.Verify
	if v == nil || !v.OK || v.ByNumber == 0 || v.Acknowledged != v.ByNumber+res.Posd[1].OK+res.Posd[4].OK || v.SaleKeys != v.Stored {
		t.Errorf("verification %+v for runs %+v %+v", v, res.Posd[1], res.Posd[4])
	}
	if p := res.Posd[4]; p.Server == nil || p.Server.CPUPerRequestUS <= 0 || p.Latency.P99 <= 0 || p.non2xx() != 0 {
		t.Errorf("posd figures: %+v", p)
	}
}
