package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"posd/engine/pgstore"
	"posd/engine/storetest"
)

// TestCheckIntegrity: a database written through the store has no
// finding; a dropped guarantee (a constraint, the partial unique index of
// open shifts), a stock level out of step with its movements and a hole in
// the list of sales or of refunds each are one.
func TestCheckIntegrity(t *testing.T) {
	ctx := context.Background()
	st := mustOpen(t)
	storetest.Fill(t, st)
	if f := st.CheckIntegrity(ctx); len(f) != 0 {
		t.Fatalf("clean database: %v", f)
	}
	for _, c := range []struct{ sql, want string }{
		{"UPDATE stock SET qty = qty + 1 WHERE ctid = (SELECT min(ctid) FROM stock)", "its movements add up to"},
		{"DELETE FROM sales WHERE ctid = (SELECT min(ctid) FROM sales)", "list positions"},
		{"ALTER TABLE numbers DROP CONSTRAINT numbers_pkey", "numbers_pkey"},
		{"DROP INDEX shifts_open_till", "shifts_open_till (one open shift per till)"},
		{"UPDATE returns SET pos = pos + 10 WHERE ctid = (SELECT min(ctid) FROM returns)", "refunds hold list positions"},
	} {
		if err := pgstore.ExecForTest(st, c.sql); err != nil {
			t.Fatal(err)
		}
		f := fmt.Sprint(st.CheckIntegrity(ctx))
		if !strings.Contains(f, c.want) {
			t.Errorf("after %s: findings %s, want one with %q", c.sql, f, c.want)
		}
	}
}
