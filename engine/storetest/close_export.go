package storetest

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"testing"

	"posd/engine"
)

// checkDayExport exports the scripted days of testZReportFigures and holds
// z_reports.csv, cash_movements.csv and the manifest's Z series to them:
// one row per Z with its figures and link, the Z nets adding up to the
// documents' gross to the cent, the drawer's pay-in and pay-out.
func checkDayExport(t testing.TB, s *shop, zs []*engine.ZReport, branchZ *engine.ZReport, shift *engine.Shift, till string) {
	t.Helper()
	files := map[string][]byte{}
	man, err := s.svc.Export(context.Background(), engine.ExportRequest{BusinessID: s.biz.ID, From: "2026-11-15", To: "2026-11-16", Version: "test"},
		func(name string) (io.WriteCloser, error) { return &memFile{name: name, files: files}, nil })
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) ([]string, [][]string) {
		recs, err := csv.NewReader(bytes.NewReader(files[name])).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		return recs[0], recs[1:]
	}
	t.Logf("%s:\n%s\n%s:\n%s", engine.ExportZReports, files[engine.ExportZReports], engine.ExportCashMovements, files[engine.ExportCashMovements])
	h, rows := read(engine.ExportZReports)
	col := func(r []string, name string) string { return r[index(h, name)] }
	want := append(append([]*engine.ZReport{}, zs...), branchZ)
	if len(rows) != len(want) {
		t.Fatalf("z_reports.csv: %d rows, want %d:\n%s", len(rows), len(want), files[engine.ExportZReports])
	}
	var zNets int64
	for i, r := range rows {
		// Main's Zs come first (locations in order), then the branch's.
		z := want[i]
		if col(r, "z_number") != z.ZNumber || col(r, "location_id") != z.LocationID || col(r, "hash") != z.Hash || col(r, "previous_hash") != z.PreviousHash || z.Hash == "" {
			t.Errorf("z_reports.csv row %d: %v, want %s of %s with hash %s", i+1, r, z.ZNumber, z.LocationID, z.Hash)
		}
		zNets += cents(t, col(r, "net"))
	}
	z1 := rows[0]
	for name, v := range map[string]string{"business_date": "2026-11-15", "opened_at": "", "closed_at": "2026-11-15T18:00:00.002Z",
		"series": "INV-202611-0001..INV-202611-0004 (4); RET-202611-0001..RET-202611-0002 (2)", "documents": "6",
		"gross": "35.99", "refunds": "-6.50", "net": "29.49", "tax": "2.38", "cash_expected": "142.99", "cash_counted": "140.00",
		"cash_difference": "-2.99", "grand_total": "29.49", "currency": "EUR"} {
		if got := col(z1, name); got != v && !(name == "closed_at" && strings.HasPrefix(got, "2026-11-15T18:00:00")) {
			t.Errorf("Z-0001's %s: %q, want %q", name, got, v)
		}
	}
	if z2 := rows[1]; col(z2, "net") != "-10.99" || col(z2, "grand_total") != "18.50" || col(z2, "cash_expected") != "" {
		t.Errorf("Z-0002's row: %v", z2)
	}
	// The Z nets are the documents', to the cent.
	dh, docs := read(engine.ExportDocuments)
	var gross int64
	for _, r := range docs {
		if t := r[index(dh, "doc_type")]; t == engine.PrefixSale || t == engine.PrefixReturn {
			gross += cents(nil, r[index(dh, "gross")])
		}
	}
	if zNets != gross || gross != 1850 {
		t.Errorf("the Z nets add up to %d, the documents' gross to %d (want 1850)", zNets, gross)
	}
	ch, cash := read(engine.ExportCashMovements)
	if len(cash) != 2 {
		t.Fatalf("cash_movements.csv: %s", files[engine.ExportCashMovements])
	}
	for i, w := range [][3]string{{engine.PayIn, "50.00", "change from the bank"}, {engine.PayOut, "-20.00", "milk"}} {
		r := cash[i]
		if r[index(ch, "kind")] != w[0] || r[index(ch, "amount")] != w[1] || r[index(ch, "reason")] != w[2] ||
			r[index(ch, "shift_id")] != shift.ID || r[index(ch, "till_id")] != till || r[index(ch, "business_date")] != "2026-11-15" {
			t.Errorf("cash movement %d: %v, want %v", i+1, r, w)
		}
	}
	// The manifest: each location's Z series, with its head, and the rows.
	found := 0
	for _, sr := range man.Series {
		switch sr.Series {
		case engine.ZSeries(s.loc):
			found++
			if sr.First != 1 || sr.Last != 3 || sr.Count != 3 || sr.HeadHash != zs[2].Hash || sr.PreviousHash != engine.GenesisHash {
				t.Errorf("manifest's Z series: %+v", sr)
			}
		case engine.ZSeries(branchZ.LocationID):
			found++
		}
	}
	if found != 2 {
		t.Errorf("manifest's series: %+v", man.Series)
	}
	for _, f := range man.Files {
		if (f.Name == engine.ExportZReports && f.Rows != 4) || (f.Name == engine.ExportCashMovements && f.Rows != 2) {
			t.Errorf("manifest: %+v", f)
		}
	}
	// A Z anchored by the manifest is found by its number, as the office's
	// integrity view looks a kept manifest's documents up.
	d, err := s.svc.DocumentByNumber(context.Background(), s.owner, engine.FormatNumber(engine.ZSeries(s.loc), 3))
	if err != nil {
		t.Errorf("Z-0003 by its number: %v", err)
	} else if z, ok := d.Document.(*engine.ZReport); !ok || z.Hash != zs[2].Hash {
		t.Errorf("Z-0003 by its number: %+v", d)
	}
	// The manifest's anchors, Zs included, hold against the chains.
	rep, err := s.svc.VerifyChains(context.Background(), s.biz.ID, man.Anchors("the export"))
	if err != nil || !rep.OK() {
		t.Errorf("the export's anchors: %v %v", err, rep.Findings)
	}
}

// cents reads a decimal amount ("-12.50") in minor units.
func cents(t testing.TB, s string) int64 {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if (err1 != nil || err2 != nil || len(frac) != 2) && t != nil {
		t.Fatalf("not an amount: %q", s)
	}
	if neg {
		return -(w*100 + f)
	}
	return w*100 + f
}
