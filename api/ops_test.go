package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/storetest/backends"
)

// newOpsEnv is newEnv with the appliance facts cmd/posd would give.
func newOpsEnv(t *testing.T, backup func() api.BackupStatus) *env {
	t.Helper()
	return newEnvWith(t, func(st engine.Store) api.Options {
		return api.Options{Ops: api.Ops{Started: time.Now().Add(-time.Hour), DatabaseSize: backends.Size(st), Backup: backup,
			Commits: func() api.CommitStats {
				s := backends.Commits(st)
				return api.CommitStats{Commits: s.Commits, Operations: s.Operations, Failed: s.Failed, MaxBatch: s.MaxBatch}
			}}}
	})
}

func TestHealthDetails(t *testing.T) {
	checked := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	status := api.BackupStatus{Enabled: true, Every: "24h0m0s", LastSuccess: &checked, LastFile: "/data/backups/posd-auto-20261120T030000Z.db", CheckedAt: &checked}
	e := newOpsEnv(t, func() api.BackupStatus { return status })
	ctx := context.Background()
	f := e.shop
	if _, err := f.till.CreateSale(ctx, "k-1", f.saleRequest("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.till.CreateSale(ctx, "k-1", f.saleRequest("1")); err != nil { // a replay
		t.Fatal(err)
	}
	e.raw("GET", "/api/me", "posd_wrong", "", "", "") // one refused request

	details := func(token string) (int, api.HealthDetails) {
		res, b := e.raw("GET", "/api/health/details", token, "", "", "")
		var h api.HealthDetails
		if res.StatusCode == 200 {
			if err := json.Unmarshal(b, &h); err != nil {
				t.Fatalf("health details: %v: %s", err, b)
			}
		}
		return res.StatusCode, h
	}
	code, h := details(f.manager.Token)
	if code != 200 {
		t.Fatalf("manager: got %d, want 200", code)
	}
	if h.Status != "ok" || len(h.Problems) != 0 {
		t.Errorf("status: got %q %v, want ok", h.Status, h.Problems)
	}
	if got := h.Idempotency["sales.create"]; got.Requests != 2 || got.Replays != 1 || got.Rate != 0.5 {
		t.Errorf("sales.create replay rate: got %+v, want 2 requests, 1 replay, 0.5", got)
	}
	if h.Refused[engine.EUNAUTHORIZED] != 1 || h.RefusedTotal[engine.EUNAUTHORIZED] != 1 {
		t.Errorf("refused: got %v / %v, want unauthorized 1", h.Refused, h.RefusedTotal)
	}
	if h.DuplicateDocuments == nil || *h.DuplicateDocuments != 0 {
		t.Errorf("duplicate documents: got %v, want 0", h.DuplicateDocuments)
	}
	if h.Database.SizeBytes <= 0 || h.Database.Writer == nil || h.Database.Writer.Commits == 0 {
		t.Errorf("database: got %+v", h.Database)
	}
	if h.UptimeSeconds < 3599 || h.Backup == nil || h.Backup.LastFile != status.LastFile {
		t.Errorf("uptime %d, backup %+v", h.UptimeSeconds, h.Backup)
	}
	if code, _ := details(f.till.Token); code != 403 {
		t.Errorf("till: got %d, want 403", code)
	}
	// The public health answer stays tiny.
	res, b := e.raw("GET", "/api/health", "", "", "", "")
	if res.StatusCode != 200 || strings.TrimSpace(string(b)) != `{"status":"ok"}` {
		t.Errorf("public health: %d %s", res.StatusCode, b)
	}

	// A failed backup and a finding put the status at attention.
	errAt := checked.Add(24 * time.Hour)
	status.Failures, status.FailuresTotal, status.LastError, status.LastErrorAt = 1, 1, "disk full", &errAt
	status.Duplicates, status.Findings = 1, 1
	_, h = details(f.owner.Token)
	if h.Status != "attention" || len(h.Problems) != 2 || *h.DuplicateDocuments != 1 {
		t.Errorf("after a failure: got %q %v dup %v, want attention with 2 problems", h.Status, h.Problems, *h.DuplicateDocuments)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	last := time.Unix(1_800_000_000, 0)
	e := newOpsEnv(t, func() api.BackupStatus {
		return api.BackupStatus{Enabled: true, LastSuccess: &last, FailuresTotal: 2, CheckedAt: &last}
	})
	ctx := context.Background()
	f := e.shop
	if _, err := f.till.CreateSale(ctx, "m-1", f.saleRequest("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.till.CreateSale(ctx, "m-1", f.saleRequest("1")); err != nil {
		t.Fatal(err)
	}
	e.raw("GET", "/api/me", "posd_wrong", "", "", "")
	res, b := e.raw("GET", "/metrics", f.manager.Token, "", "", "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`posd_requests_refused_total{code="unauthorized"} 1`,
		`posd_idempotent_requests_total{replay="true",route="sales.create"} 1`,
		`posd_idempotent_requests_total{replay="false",route="sales.create"} 1`,
		`posd_backup_last_success_timestamp_seconds 1.8e+09`,
		`posd_backup_failures_total 2`,
		`posd_duplicate_documents 0`,
		`posd_database_size_bytes `,
		`posd_store_commits_total `,
		`go_goroutines `,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if res, _ := e.raw("GET", "/metrics", f.till.Token, "", "", ""); res.StatusCode != 403 {
		t.Errorf("metrics as till: got %d, want 403", res.StatusCode)
	}
	if res, b := e.raw("GET", "/metrics", "", "", "", ""); res.StatusCode != 401 {
		t.Errorf("metrics without token: got %d, want 401", res.StatusCode)
	} else {
		errorShape(t, b)
	}
}

// fullStore is a store whose writes fail with err while it is set, as
// the bbolt store's do when the disk is full.
type fullStore struct {
	engine.Store
	err atomic.Pointer[error]
}

func (f *fullStore) Update(ctx context.Context, fn func(engine.Tx) error) error {
	if e := f.err.Load(); e != nil {
		return *e
	}
	return f.Store.Update(ctx, fn)
}

// With the disk full every sale got 503 while the health view said ok. The
// public /api/health stays tiny and "ok" (the contract's, for load
// balancers), but the health view and /metrics now say that writes fail,
// and why, until a write succeeds again.
func TestFailingWritesShow(t *testing.T) {
	st := backends.Open(t)
	fs := &fullStore{Store: st}
	svc := engine.NewService(fs)
	ctx := context.Background()
	_, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "Full", Timezone: "UTC"})
	must(t, err)
	srv := httptest.NewServer(api.NewServer(svc, api.Options{}))
	defer srv.Close()
	owner := client.New(srv.URL, secret)
	owner.Retry = &client.NoRetry
	p, err := owner.CreateProduct(ctx, "", client.ProductRequest{SKU: "A", Name: "Apple", Price: 100})
	must(t, err)
	sale := client.SaleRequest{LocationID: loc.ID, Items: []client.SaleLine{{ProductID: p.ID, Quantity: engine.Q(1)}}, Payments: []engine.Payment{{Method: "cash", Amount: 100}}}

	details := func() client.HealthDetails {
		t.Helper()
		h, err := owner.HealthDetails(ctx)
		must(t, err)
		return *h
	}
	if h := details(); h.Writes.Failing || h.Status != "ok" {
		t.Fatalf("before: writes %+v, status %s", h.Writes, h.Status)
	}

	full := error(engine.StorageError(engine.CauseDiskFull, syscall.EFBIG))
	fs.err.Store(&full)
	for i := 0; i < 3; i++ {
		_, err := owner.CreateSale(ctx, "", sale)
		if !errors.Is(err, engine.ErrUnavailable) || !strings.Contains(engine.ErrorMessage(err), "disk is full") {
			t.Fatalf("sale with the disk full: got %v, want 503 unavailable saying the disk is full", err)
		}
	}
	if err := owner.Health(ctx); err != nil {
		t.Errorf("public health with the disk full: %v, want ok", err)
	}
	h := details()
	if !h.Writes.Failing || h.Writes.LastFailure == nil || h.Writes.LastFailure.Cause != engine.CauseDiskFull || h.Writes.LastFailure.Route != "sales.create" || h.Writes.Failures24h != 3 {
		t.Errorf("writes with the disk full: %+v %+v", h.Writes, h.Writes.LastFailure)
	}
	if h.Status != "attention" || len(h.Problems) != 1 || !strings.Contains(h.Problems[0], "disk is full") {
		t.Errorf("status with the disk full: %q %q", h.Status, h.Problems)
	}
	res, err := http.NewRequest("GET", srv.URL+"/metrics", nil)
	must(t, err)
	res.Header.Set("Authorization", "Bearer "+secret)
	mr, err := http.DefaultClient.Do(res)
	must(t, err)
	mb, _ := io.ReadAll(mr.Body)
	mr.Body.Close()
	for _, want := range []string{`posd_write_failures_total{cause="disk_full"} 3`, "posd_writes_failing 1", `posd_request_duration_seconds_count{route="sales.create"} 3`} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("metrics with the disk full lack %q", want)
		}
	}

	fs.err.Store(nil)
	if _, err := owner.CreateSale(ctx, "", sale); err != nil {
		t.Fatal(err)
	}
	if h := details(); h.Writes.Failing || h.Status != "ok" || h.Writes.Failures24h != 3 || h.Writes.LastSuccessAt == nil {
		t.Errorf("after space was freed: writes %+v, status %s %q", h.Writes, h.Status, h.Problems)
	}
}
