package pgstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/pgstore"
	"posd/engine/pgstore/pgtest"
	"posd/engine/storecopy"
	"posd/engine/storetest"
)

func openBolt(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func same(t *testing.T, what string, a, b engine.Store) {
	t.Helper()
	rep, err := storecopy.Compare(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Same() {
		t.Fatalf("%s: %v", what, rep.Findings)
	}
	if rep.Counts["sale"][0] == 0 {
		t.Fatalf("%s: compared no sales", what)
	}
}

// TestImportAndBack: an embedded store imported into PostgreSQL with COPY,
// copied into PostgreSQL through engine.Tx, and copied back from
// PostgreSQL into a new embedded store, is the same store each time; and
// the imported one goes on numbering and listing where the source was.
func TestImportAndBack(t *testing.T) {
	ctx := context.Background()
	src := openBolt(t)
	storetest.Fill(t, src)

	pg := mustOpen(t)
	figs, err := pg.Import(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %v", figs)
	same(t, "embedded → PostgreSQL (COPY)", src, pg)

	slow := mustOpen(t)
	if _, err := storecopy.Copy(ctx, src, slow, 7, nil); err != nil {
		t.Fatal(err)
	}
	same(t, "embedded → PostgreSQL (engine.Tx)", src, slow)

	back := openBolt(t)
	if _, err := storecopy.Copy(ctx, pg, back, 0, nil); err != nil {
		t.Fatal(err)
	}
	same(t, "PostgreSQL → embedded", pg, back)

	rep, err := engine.NewService(pg).Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Findings() != 0 {
		t.Errorf("the imported database does not verify: %+v", rep.Checks)
	}
	// A second import into the now full database is refused, and changes
	// nothing.
	if _, err := pg.Import(ctx, src, nil); !errors.Is(err, pgstore.ErrNotEmpty) {
		t.Errorf("import into a full database: got %v, want ErrNotEmpty", err)
	}
	same(t, "after the refused import", src, pg)
	// The next sale of the imported business continues its list.
	err = pg.Update(ctx, func(tx engine.Tx) error {
		bs, _ := tx.Businesses()
		s := &engine.Sale{ID: "zz-next", BusinessID: bs[0].ID, LocationID: "l", InvoiceNumber: "INV-209901-0001", Returns: []string{}}
		return tx.PutSale(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	pg.View(ctx, func(tx engine.Tx) error {
		bs, _ := tx.Businesses()
		page, _, err := tx.Sales(bs[0].ID, engine.SaleFilter{Limit: 1, Newest: true})
		if err != nil || len(page) != 1 || page[0].ID != "zz-next" {
			t.Errorf("newest sale after import: %v %v", page, err)
		}
		return nil
	})
}

// TestCheckEmpty names what makes a database not empty.
func TestCheckEmpty(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewDatabase(t, "")
	if err := pgstore.CheckEmpty(ctx, u); err != nil {
		t.Fatalf("a new database: %v", err)
	}
	st := openURL(t, u)
	if err := pgstore.CheckEmpty(ctx, u); err != nil {
		t.Fatalf("a database with an empty posd schema: %v", err)
	}
	if _, _, _, err := engine.NewService(st).CreateBusiness(ctx, engine.BusinessInput{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := pgstore.CheckEmpty(ctx, u); !errors.Is(err, pgstore.ErrNotEmpty) || !strings.Contains(err.Error(), "businesses") {
		t.Errorf("a database with a business: %v", err)
	}
	other := pgtest.NewDatabase(t, "")
	if err := pgtest.Shared(t).Exec(ctx, dbName(other), "CREATE TABLE invoices (n int)"); err != nil {
		t.Fatal(err)
	}
	if err := pgstore.CheckEmpty(ctx, other); !errors.Is(err, pgstore.ErrNotEmpty) || !strings.Contains(err.Error(), "invoices") {
		t.Errorf("a database with another application's table: %v", err)
	}
}
