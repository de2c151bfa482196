package api_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posd/api"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// TestReplayAcrossTheChainUpgrade takes the database posd wrote before hash
// chains, with every request made into it and its first answer
// (engine/boltstore/testdata/schema3.*), upgrades it as serve does, and
// sends every request again with its key within the answers' 24 hours:
// each replay is its first answer byte for byte, so it carries no hash,
// while a GET of the same document does (contract §7).
func TestReplayAcrossTheChainUpgrade(t *testing.T) {
	testdata := filepath.Join("..", "engine", "boltstore", "testdata")
	var fx struct {
		OwnerToken string `json:"ownerToken"`
		Calls      []struct {
			Method, Path, Key string
			Body              json.RawMessage
			Status            int
			Answer            string
		} `json:"calls"`
	}
	b, err := os.ReadFile(filepath.Join(testdata, "schema3.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	gz, err := os.Open(filepath.Join(testdata, "schema3.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "posd.db")
	f, _ := os.Create(path)
	if _, err := io.Copy(f, zr); err != nil {
		t.Fatal(err)
	}
	f.Close()

	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := engine.NewService(st)
	svc.Now = storetest.NewClock(time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)).Now
	if up, err := svc.UpgradeChains(context.Background()); err != nil || up.Documents != 10 {
		t.Fatalf("upgrade: %+v %v", up, err)
	}
	srv := httptest.NewServer(api.NewServer(svc, api.Options{}))
	defer srv.Close()
	e := &env{t: t, srv: srv}

	replays := 0
	for _, c := range fx.Calls {
		if c.Method != "POST" {
			continue
		}
		res, got := e.raw("POST", c.Path, fx.OwnerToken, c.Key, "application/json", string(c.Body))
		if res.StatusCode != c.Status || string(got) != c.Answer || res.Header.Get("X-Idempotent-Replay") != "true" {
			t.Errorf("%s %s replayed after the upgrade: %d %s\nfirst answer: %d %s", c.Method, c.Path, res.StatusCode, got, c.Status, c.Answer)
		}
		if strings.Contains(string(got), `"hash"`) {
			t.Errorf("%s: a replay of an answer from before chains carries a hash: %s", c.Path, got)
		}
		replays++
		var doc struct {
			ID            string
			InvoiceNumber *string `json:"invoiceNumber"`
			ReturnNumber  *string `json:"returnNumber"`
		}
		json.Unmarshal([]byte(c.Answer), &doc)
		var get string
		switch {
		case doc.InvoiceNumber != nil:
			get = "/api/sales/" + doc.ID
		case doc.ReturnNumber != nil:
			get = "/api/returns/" + doc.ID
		case strings.HasSuffix(c.Path, "/approve"):
			get = "/api/purchases/receipts/" + doc.ID
		case strings.HasSuffix(c.Path, "/send"):
			get = "/api/transfers/" + doc.ID
		default:
			continue
		}
		res, now := e.raw("GET", get, fx.OwnerToken, "", "", "")
		var link struct {
			Hash         string `json:"hash"`
			PreviousHash string `json:"previousHash"`
		}
		json.Unmarshal(now, &link)
		if res.StatusCode != 200 || len(link.Hash) != 64 || len(link.PreviousHash) != 64 {
			t.Errorf("GET %s after the upgrade: %d %s, want its hash and previous hash", get, res.StatusCode, now)
		}
	}
	if replays != 18 {
		t.Errorf("%d requests replayed, want the fixture's 18", replays)
	}
	// A new sale after the upgrade is answered with its hash, chained to
	// the last sale of before.
	var sale engine.Sale
	res, body := e.raw("POST", "/api/sales", fx.OwnerToken, "after-upgrade", "application/json", string(fx.Calls[4].Body))
	json.Unmarshal(body, &sale)
	last, _ := svc.Sale(context.Background(), mustActor(t, svc, fx.OwnerToken), sale.ID)
	if res.StatusCode != 201 || sale.InvoiceNumber != "INV-202611-0003" || len(sale.Hash) != 64 || last == nil || last.Hash != sale.Hash {
		t.Errorf("a sale after the upgrade: %d %s", res.StatusCode, body)
	}
	var before struct{ ID string }
	json.Unmarshal([]byte(fx.Calls[12].Answer), &before)
	prev, err := svc.Sale(context.Background(), mustActor(t, svc, fx.OwnerToken), before.ID)
	if err != nil || prev.InvoiceNumber != "INV-202611-0002" || sale.PreviousHash != prev.Hash {
		t.Errorf("INV-202611-0003 chains to %s; INV-202611-0002 (%v) has %s", sale.PreviousHash, err, prev.Hash)
	}
}

func mustActor(t *testing.T, svc *engine.Service, token string) *engine.Actor {
	t.Helper()
	a, err := svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
