package api

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"posd/engine"
)

// integrityRoutes are the owner's and manager's views of the hash chains
// and the accountant's export (contract §7), for the back office.
func integrityRoutes() []Route {
	return []Route{
		{Name: "integrity.get", Method: "GET", Path: "/integrity", Perm: engine.PermManage, handle: getIntegrity},
		{Name: "export.zip", Method: "GET", Path: "/export", Perm: engine.PermManage, handle: getExportZip},
		{Name: "export.file", Method: "GET", Path: "/export/{file}", Perm: engine.PermManage, handle: getExportFile},
	}
}

// Integrity is the answer to GET /api/integrity: every chain of the
// business recomputed now.
type Integrity struct {
	CheckedAt time.Time `json:"checkedAt"`
	OK        bool      `json:"ok"`
	*engine.ChainReport
}

func getIntegrity(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	at := s.Now().UTC().Truncate(time.Second)
	rep, err := s.svc.Integrity(r.Context(), a, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Integrity{CheckedAt: at, OK: rep.OK(), ChainReport: rep})
}

// exportRange reads ?from=YYYY-MM-DD&to=YYYY-MM-DD.
func exportRange(r *http.Request) (string, string, error) {
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if from == "" {
		return "", "", engine.FieldError("from", "is required: the first day, e.g. 2026-11-01")
	}
	if to == "" {
		return "", "", engine.FieldError("to", "is required: the last day, e.g. 2026-11-30")
	}
	return from, to, nil
}

// zipTime is every entry's time in an export's zip, so that the same range
// downloaded twice is the same file.
var zipTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// getExportZip answers GET /api/export?from&to with the whole export as one
// zip. The export is built in memory first: it runs in one read
// transaction, which must not last as long as a slow download.
func getExportZip(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	from, to, err := exportRange(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	_, err = s.svc.ExportFor(r.Context(), a, from, to, s.version, func(name string) (io.WriteCloser, error) {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime})
		return nopWriteCloser{f}, err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	download(w, "application/zip", "posd-export-"+from+"-"+to+".zip", buf.Bytes())
}

// getExportFile answers GET /api/export/{file}?from&to with one file of the
// export, for a spreadsheet that opens a link.
func getExportFile(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	from, to, err := exportRange(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	want := mux.Vars(r)["file"]
	var buf bytes.Buffer
	found := false
	_, err = s.svc.ExportFor(r.Context(), a, from, to, s.version, func(name string) (io.WriteCloser, error) {
		if name == want {
			found = true
			return nopWriteCloser{&buf}, nil
		}
		return nopWriteCloser{io.Discard}, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !found {
		s.writeError(w, r, engine.Errorf(engine.ENOTFOUND, "an export has no file %q; it has documents.csv, lines.csv, payments.csv, taxes.csv, stock_lines.csv, z_reports.csv, cash_movements.csv and manifest.json", want))
		return
	}
	ct := "text/csv; charset=utf-8"
	if want == engine.ExportManifestName {
		ct = "application/json; charset=utf-8"
	}
	download(w, ct, from+"-"+to+"-"+want, buf.Bytes())
}

func download(w http.ResponseWriter, contentType, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
