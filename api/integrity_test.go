package api_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"posd/api"
	"posd/engine"
	"posd/engine/storetest"
	"posd/engine/storetest/backends"
)

// monthServer serves storetest's Month over HTTP.
func monthServer(t *testing.T) (*env, *storetest.Month) {
	t.Helper()
	st := backends.Open(t)
	svc := engine.NewService(st)
	m := storetest.NewMonth(t, svc)
	a := api.NewServer(svc, api.Options{Version: "v-test"})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, api: a, svc: svc, store: st}, m
}

// TestIntegrityView: GET /api/integrity recomputes every chain of the
// business and reports each series, its head and that all is well.
func TestIntegrityView(t *testing.T) {
	e, m := monthServer(t)
	res, b := e.raw("GET", "/api/integrity", m.OwnerToken, "", "", "")
	if res.StatusCode != 200 {
		t.Fatalf("integrity: %d %s", res.StatusCode, b)
	}
	var got struct {
		OK        bool   `json:"ok"`
		CheckedAt string `json:"checkedAt"`
		Documents int    `json:"documents"`
		Series    []engine.SeriesReport
		Findings  []string `json:"findings"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	docs := len(m.Sales) + len(m.Returns) + len(m.Receipts) + len(m.Transfers)
	if !got.OK || got.Documents != docs || len(got.Findings) != 0 || got.CheckedAt == "" {
		t.Errorf("integrity: ok=%v, %d documents (want %d), findings %v", got.OK, got.Documents, docs, got.Findings)
	}
	var names []engine.Series
	for _, s := range got.Series {
		names = append(names, s.Series)
		if s.FirstBreak != "" || s.Documents != int(s.Last) {
			t.Errorf("series %+v", s)
		}
	}
	want := []engine.Series{"INV-202610", "INV-202611", "INV-202612", "RET-202611", "RCV-202611", "TRF-202611"}
	if !slices.Equal(names, want) {
		t.Errorf("series %v, want %v", names, want)
	}
	last := m.Sales[len(m.Sales)-2]
	if got.Series[1].HeadHash != last.Hash || last.Hash == "" {
		t.Errorf("INV-202611's head %s, want %s", got.Series[1].HeadHash, last.Hash)
	}
}

// TestExportDownload: the office's download is the same export as posd
// export, as one zip or file by file, byte-identical on a repeat.
func TestExportDownload(t *testing.T) {
	e, m := monthServer(t)
	const q = "?from=2026-11-01&to=2026-11-30"
	res, zb := e.raw("GET", "/api/export"+q, m.OwnerToken, "", "", "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="posd-export-2026-11-01-2026-11-30.zip"` {
		t.Fatalf("export: %d %v %.200s", res.StatusCode, res.Header, zb)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
		names = append(names, f.Name)
	}
	want := []string{"documents.csv", "lines.csv", "payments.csv", "taxes.csv", "stock_lines.csv", "z_reports.csv", "cash_movements.csv", "manifest.json"}
	if !slices.Equal(names, want) {
		t.Fatalf("zip holds %v, want %v", names, want)
	}
	var man engine.ExportManifest
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil || man.PosdVersion != "v-test" || man.Business.ID != m.Biz.ID {
		t.Fatalf("manifest: %v %+v", err, man)
	}
	sales, _ := m.November()
	if n := strings.Count(string(files["documents.csv"]), ",INV,INV-202611-"); n != len(sales) {
		t.Errorf("documents.csv has %d November sales, want %d", n, len(sales))
	}
	_, again := e.raw("GET", "/api/export"+q, m.OwnerToken, "", "", "")
	if !bytes.Equal(zb, again) {
		t.Error("the zip differs on a repeat")
	}
	for _, name := range want {
		res, b := e.raw("GET", "/api/export/"+name+q, m.OwnerToken, "", "", "")
		if res.StatusCode != 200 || !bytes.Equal(b, files[name]) {
			t.Errorf("%s alone: %d, same as in the zip: %v", name, res.StatusCode, bytes.Equal(b, files[name]))
		}
	}
	for path, field := range map[string]string{
		"/api/export?to=2026-11-30":                     "from",
		"/api/export?from=2026-11-01":                   "to",
		"/api/export?from=2026-11-31&to=2026-12-01":     "from",
		"/api/export?from=2026-11-02&to=2026-11-01":     "to",
		"/api/export/documents.csv?from=x&to=2026-11-1": "from",
	} {
		res, b := e.raw("GET", path, m.OwnerToken, "", "", "")
		var eb api.ErrorBody
		json.Unmarshal(b, &eb)
		if res.StatusCode != 400 || eb.Error.Code != engine.EINVALID || eb.Error.Field != field {
			t.Errorf("%s: %d %s, want 400 on %s", path, res.StatusCode, b, field)
		}
	}
	res, b := e.raw("GET", "/api/export/secrets.txt"+q, m.OwnerToken, "", "", "")
	if res.StatusCode != 404 || errorShape(t, b) != engine.ENOTFOUND {
		t.Errorf("unknown file: %d %s", res.StatusCode, b)
	}
}
