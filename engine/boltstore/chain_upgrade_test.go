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

	"posd/engine"
	"posd/engine/boltstore"
)

// legacyFile writes testdata/schema3.db.gz, a database as posd wrote it
// before hash chains (schema 3, testdata/schema3-gen.go.txt made it), into
// dir as posd.db.
func legacyFile(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "schema3.db.gz"))
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

// legacyFixture is testdata/schema3.json: what was asked and answered.
type legacyFixture struct {
	Schema     int    `json:"schema"`
	BusinessID string `json:"businessId"`
}

// TestUpgradeToChains opens the schema-3 file for writing: a copy of it is
// taken beside it first and logged, then UpgradeChains links its ten
// documents in number order, series by series (across October and
// November), refunds get their sale's hash and tax, the result verifies,
// and it happens once: a second start links nothing and copies nothing.
func TestUpgradeToChains(t *testing.T) {
	dir := t.TempDir()
	path := legacyFile(t, dir)
	var fx legacyFixture
	b, _ := os.ReadFile(filepath.Join("testdata", "schema3.json"))
	if err := json.Unmarshal(b, &fx); err != nil || fx.Schema != 3 {
		t.Fatalf("fixture: %v %+v", err, fx)
	}
	var logs bytes.Buffer
	st, err := boltstore.Open(path, boltstore.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	copyPath := st.UpgradeBackup()
	if filepath.Dir(copyPath) != dir || !strings.HasPrefix(filepath.Base(copyPath), "pre-chains-") || !strings.HasSuffix(copyPath, ".db") {
		t.Errorf("the copy before the upgrade is %q, want %s/pre-chains-<time>.db", copyPath, dir)
	}
	if !strings.Contains(logs.String(), "upgrading the database to hash chains") || !strings.Contains(logs.String(), copyPath) {
		t.Errorf("the upgrade was not logged with its copy: %s", logs.String())
	}
	if v, _ := st.SchemaVersion(); v != boltstore.SchemaVersion {
		t.Errorf("schema after open: %d", v)
	}
	svc := engine.NewService(st)
	up, err := svc.UpgradeChains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if up.Documents != 10 || up.Series != 7 {
		t.Errorf("upgrade linked %d documents in %d series, want 10 in 7", up.Documents, up.Series)
	}
	rep, err := svc.VerifyChains(context.Background(), fx.BusinessID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Documents != 10 {
		t.Errorf("after the upgrade: %d documents, findings %v", rep.Documents, rep.Findings)
	}
	full, err := svc.Verify(context.Background())
	if err != nil || full.Findings() != 0 {
		t.Errorf("verify after the upgrade: %v %d findings", err, full.Findings())
	}

	// The links: November's first sale chains to October's last, the
	// business's first sale to the genesis value.
	sales := map[string]*engine.Sale{}
	var returns []*engine.Return
	err = engine.Scan(context.Background(), st, func(tx engine.ScanTx) error {
		if err := tx.AllSales(fx.BusinessID, func(s *engine.Sale) error { sales[s.InvoiceNumber] = s; return nil }); err != nil {
			return err
		}
		return tx.Returns(fx.BusinessID, func(r *engine.Return) error { returns = append(returns, r); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := sales["INV-202610-0001"]; s.PreviousHash != engine.GenesisHash {
		t.Errorf("the first sale chains to %s", s.PreviousHash)
	}
	if a, b := sales["INV-202610-0002"], sales["INV-202611-0001"]; b.PreviousHash != a.Hash || a.Hash == "" {
		t.Errorf("November's first sale chains to %s, October's last is %s", b.PreviousHash, a.Hash)
	}
	for _, s := range sales {
		if h, _ := engine.ComputeHash(s); h != s.Hash {
			t.Errorf("%s: hash %s, its values give %s", s.InvoiceNumber, s.Hash, h)
		}
	}
	// Refunds made before chains: their sale and their tax, worked out as
	// a refund works them out now. a: 1 of 2 apples (tax 50 on the line);
	// b: all of 0.25 kg of cheese (tax 33); c: 0.111 of 0.333 kg (tax 44).
	half := func(a, b, c int64) engine.Money { return engine.Money((2*a*b + c) / (2 * c)) }
	wantTax := map[string]engine.Money{"RET-202610-0001": half(50, 1, 2), "RET-202611-0001": 33, "RET-202611-0002": half(44, 111, 333)}
	for _, r := range returns {
		sale := sales[r.SaleNumber]
		if sale == nil || sale.ID != r.SaleID || r.SaleHash != sale.Hash {
			t.Errorf("%s: sale %s %s, want the sale %s with its hash", r.ReturnNumber, r.SaleNumber, r.SaleHash, r.SaleID)
			continue
		}
		if len(r.Items) != 1 || r.Items[0].TaxAmount != wantTax[r.ReturnNumber] || r.TaxTotal != wantTax[r.ReturnNumber] || r.Items[0].TaxRate != sale.Items[len(sale.Items)-1].TaxRate {
			t.Errorf("%s: tax %+v (total %d), want %d", r.ReturnNumber, r.Items, r.TaxTotal, wantTax[r.ReturnNumber])
		}
	}

	// The copy is the file as it was: schema 3, no hashes.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	old, err := boltstore.Open(copyPath, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := old.SchemaVersion(); v != 3 {
		t.Errorf("the copy has schema %d", v)
	}
	err = engine.Scan(context.Background(), old, func(tx engine.ScanTx) error {
		return tx.AllSales(fx.BusinessID, func(s *engine.Sale) error {
			if s.Hash != "" {
				t.Errorf("the copy's %s has a hash", s.InvoiceNumber)
			}
			return nil
		})
	})
	old.Close()
	if err != nil {
		t.Fatal(err)
	}

	// Once: a second start copies nothing and links nothing.
	st, err = boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.UpgradeBackup() != "" {
		t.Errorf("a second start copied the file again: %s", st.UpgradeBackup())
	}
	up, err = engine.NewService(st).UpgradeChains(context.Background())
	if err != nil || up.Documents != 0 || up.Series != 0 {
		t.Errorf("a second upgrade: %+v %v", up, err)
	}
	if copies, _ := filepath.Glob(filepath.Join(dir, "pre-chains-*")); len(copies) != 1 {
		t.Errorf("copies: %v", copies)
	}
}

// TestVerifyOldFileWithoutUpgrading: a schema-3 file opened read-only (an
// old backup) is not upgraded; its chain check says it predates chains
// instead of failing.
func TestVerifyOldFileWithoutUpgrading(t *testing.T) {
	path := legacyFile(t, t.TempDir())
	st, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.UpgradeBackup() != "" {
		t.Error("a read-only open copied the file")
	}
	if errs := st.CheckIntegrity(context.Background()); len(errs) != 0 {
		t.Errorf("integrity of the old file: %v", errs)
	}
	rep, err := engine.NewService(st).VerifyWith(context.Background(), engine.VerifyOptions{Unchained: true})
	if err != nil || rep.Findings() != 0 {
		t.Fatalf("verify: %v %d findings", err, rep.Findings())
	}
	for _, c := range rep.Checks {
		if c.Name == engine.CheckChains && !strings.Contains(c.Detail, "predates hash chains") {
			t.Errorf("chain check: %q", c.Detail)
		}
	}
	// Told it should have chains, the same file is a finding per series.
	rep, _ = engine.NewService(st).Verify(context.Background())
	if rep.Findings() == 0 {
		t.Error("a file without chains verified as chained")
	}
}
