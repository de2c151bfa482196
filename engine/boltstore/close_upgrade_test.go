package boltstore_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// schema5Fixture is testdata/schema5.json: what the schema-5 file holds.
type schema5Fixture struct {
	Schema     int               `json:"schema"`
	BusinessID string            `json:"businessId"`
	LocationID string            `json:"locationId"`
	Hashes     map[string]string `json:"hashes"`
	Net        engine.Money      `json:"net"`
	Sales      int               `json:"sales"`
	Refunds    int               `json:"refunds"`
}

// gunzipTestdata writes testdata/name.gz into dir as posd.db.
func gunzipTestdata(t *testing.T, name, dir string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "posd.db")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUpgradeFromSchema5 opens a file that main's posd wrote with hash
// chains (schema 5, testdata/schema5-gen.go.txt) for writing: a copy is
// taken beside it first and logged, the file is marked 6, its refunds are
// listed for Z reports, every hash it had still verifies unchanged, a new
// sale chains onto the old head, and the first Z covers every old
// document, to the cent. A second open copies nothing.
func TestUpgradeFromSchema5(t *testing.T) {
	dir := t.TempDir()
	path := gunzipTestdata(t, "schema5.db", dir)
	var fx schema5Fixture
	b, _ := os.ReadFile(filepath.Join("testdata", "schema5.json"))
	if err := json.Unmarshal(b, &fx); err != nil || fx.Schema != 5 || len(fx.Hashes) != 8 {
		t.Fatalf("fixture: %v %+v", err, fx)
	}

	// Read-only (verify, backup) it is read as it is: no copy, still 5.
	ro, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := ro.SchemaVersion(); v != 5 || ro.UpgradeBackup() != "" {
		t.Errorf("read-only open: schema %d, copy %q", v, ro.UpgradeBackup())
	}
	rep, err := engine.NewService(ro).Verify(context.Background())
	if err != nil || rep.Findings() != 0 {
		t.Errorf("verify of the schema-5 file: %v %+v", err, rep)
	}
	ro.Close()

	var logs bytes.Buffer
	st, err := boltstore.Open(path, boltstore.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	copyPath := st.UpgradeBackup()
	if filepath.Dir(copyPath) != dir || !strings.HasPrefix(filepath.Base(copyPath), "pre-close-") || !strings.HasSuffix(copyPath, ".db") {
		t.Errorf("the copy before the upgrade is %q, want %s/pre-close-<time>.db", copyPath, dir)
	}
	// The copy is the file as schema 5 left it (a consistent snapshot of
	// it, not its bytes): schema 5, the same documents, no ret_loc.
	if cp, err := boltstore.Open(copyPath, boltstore.Options{ReadOnly: true}); err != nil {
		t.Error(err)
	} else {
		v, _ := cp.SchemaVersion()
		crep, err := engine.NewService(cp).Verify(context.Background())
		if v != 5 || err != nil || crep.Findings() != 0 || crep.Businesses[0].Counts.Sales != fx.Sales {
			t.Errorf("the copy: schema %d, %v, %+v", v, err, crep)
		}
		cp.Close()
	}
	if !strings.Contains(logs.String(), "upgrading the database to the day's close") || !strings.Contains(logs.String(), copyPath) {
		t.Errorf("the upgrade was not logged with its copy: %s", logs.String())
	}
	if v, _ := st.SchemaVersion(); v != boltstore.SchemaVersion {
		t.Errorf("schema after open: %d", v)
	}
	svc := engine.NewService(st)
	clock := storetest.NewClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	svc.Now = clock.Now
	ctx := context.Background()
	// UpgradeChains (serve runs it) has nothing to link: the file has them.
	if up, err := svc.UpgradeChains(ctx); err != nil || up.Documents != 0 {
		t.Errorf("UpgradeChains on a chained file: %v %+v", err, up)
	}
	// Every hash written by schema 5 is still what the documents give.
	cr, err := svc.VerifyChains(ctx, fx.BusinessID, nil)
	if err != nil || !cr.OK() || cr.Documents != 8 {
		t.Fatalf("chains after the upgrade: %v %d documents, %v", err, cr.Documents, cr.Findings)
	}
	err = engine.Scan(ctx, st, func(tx engine.ScanTx) error {
		for number, h := range fx.Hashes {
			ref, err := tx.NumberOwner(fx.BusinessID, number)
			if err != nil {
				return err
			}
			var got string
			switch ref.Kind {
			case engine.KindSale:
				s, err := tx.Sale(fx.BusinessID, ref.ID)
				if err != nil {
					return err
				}
				got = s.Hash
			case engine.KindReturn:
				r, err := tx.Return(fx.BusinessID, ref.ID)
				if err != nil {
					return err
				}
				got = r.Hash
			default:
				continue
			}
			if got != h {
				t.Errorf("%s: hash %s, schema 5 wrote %s", number, got, h)
			}
		}
		// The old refunds are listed where Z reports find them.
		rs, _, err := tx.ReturnsAt(fx.BusinessID, engine.SaleFilter{LocationID: fx.LocationID, Limit: 10})
		if err != nil {
			return err
		}
		if len(rs) != fx.Refunds {
			t.Errorf("refunds listed for Z reports: %d, want %d", len(rs), fx.Refunds)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The owner closes the day (the fixture keeps no token: the actor is
	// made as the API's authentication makes it).
	owner := &engine.Actor{BusinessID: fx.BusinessID, Role: engine.RoleOwner}
	z, err := svc.CreateZReport(ctx, owner, "after-upgrade-z", engine.ZReportInput{LocationID: fx.LocationID})
	if err != nil {
		t.Fatal(err)
	}
	if z.Doc.ZNumber != "Z-0001" || z.Doc.SalesCount != fx.Sales || z.Doc.RefundsCount != fx.Refunds || z.Doc.Net != fx.Net || z.Doc.PreviousHash != engine.GenesisHash {
		t.Errorf("the first Z after the upgrade: %s, %d sales, %d refunds, net %d (want %d sales, %d refunds, net %d), previous %s",
			z.Doc.ZNumber, z.Doc.SalesCount, z.Doc.RefundsCount, z.Doc.Net, fx.Sales, fx.Refunds, fx.Net, z.Doc.PreviousHash)
	}
	heads := map[engine.Series]string{}
	for _, h := range z.Doc.SeriesHeads {
		heads[h.Series] = h.Hash
	}
	// Each kind's latest series, then the earlier month's series the
	// first Z covers too.
	if heads["INV-202611"] != fx.Hashes["INV-202611-0002"] || heads["RET-202611"] != fx.Hashes["RET-202611-0002"] || heads["RCV-202611"] != fx.Hashes["RCV-202611-0001"] ||
		heads["INV-202610"] != fx.Hashes["INV-202610-0002"] || heads["RET-202610"] != fx.Hashes["RET-202610-0001"] || len(heads) != 5 || fx.Hashes["INV-202610-0002"] == "" {
		t.Errorf("the Z's heads: %+v", z.Doc.SeriesHeads)
	}
	full, err := svc.Verify(ctx)
	if err != nil || full.Findings() != 0 {
		t.Errorf("verify after the upgrade and a Z: %v %+v", err, full)
	}
	st.Close()
	again, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.UpgradeBackup() != "" {
		t.Errorf("a second open copied the file again: %s", again.UpgradeBackup())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "pre-*.db")); len(m) != 1 {
		t.Errorf("copies beside the file: %v", m)
	}
}

// TestUpgradeFromSchema6: schema 7 changes nothing stored before (answers to
// new sales may name the sale; the old ones stay copies), so a file of
// schema 6 that holds documents is marked 7 without a copy beside it, and
// verifies as before. (A schema-6 file is the schema-5 fixture upgraded
// once and marked 6 again: schemas 6 and 7 have the same buckets.)
func TestUpgradeFromSchema6(t *testing.T) {
	dir := t.TempDir()
	path := gunzipTestdata(t, "schema5.db", dir)
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := st.UpgradeBackup()
	if err := st.DB().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("6"))
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var logs bytes.Buffer
	st, err = boltstore.Open(path, boltstore.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, _ := st.SchemaVersion(); v != boltstore.SchemaVersion || st.UpgradeBackup() != "" || strings.Contains(logs.String(), "upgrading") {
		t.Errorf("opening schema 6: schema %d, copy %q, log %s", v, st.UpgradeBackup(), logs.String())
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "pre-*.db")); len(entries) != 1 || entries[0] != first {
		t.Errorf("copies beside the file: %v, want only the schema-5 upgrade's %s", entries, first)
	}
	if rep, err := engine.NewService(st).Verify(context.Background()); err != nil || rep.Findings() != 0 {
		t.Errorf("verify after marking 7: %v %+v", err, rep)
	}
}
