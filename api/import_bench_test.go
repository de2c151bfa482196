package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/boltstore"
)

// BenchmarkImport10000 imports a file of 10,000 products into an empty
// shop over a real listener, as the office does: in one request, or in ten
// parts of 1,000 (each its own key; every part re-sends and re-checks the
// whole file). One op is the whole file. Run with -benchtime 5x.
func BenchmarkImport10000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("sku,name,price,taxRate\n")
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&sb, "40063813%05d,Product number %d with a name of usual length,%d.%02d,20\n", i, i, 1+i%80, i%100)
	}
	csv := sb.String()
	b.Logf("file: %d bytes", len(csv))
	for _, parts := range []int{1, 10} {
		b.Run(fmt.Sprintf("parts=%d", parts), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st, err := boltstore.Open(filepath.Join(b.TempDir(), "posd.db"), boltstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				svc := engine.NewService(st)
				_, _, secret, err := svc.CreateBusiness(context.Background(), engine.BusinessInput{Name: "Bench", Timezone: "UTC"})
				if err != nil {
					b.Fatal(err)
				}
				srv := httptest.NewServer(api.NewServer(svc, api.Options{}))
				c := client.New(srv.URL, secret)
				b.StartTimer()
				created := 0
				for p := 0; p < parts; p++ {
					req := client.ImportRequest{CSV: csv}
					if parts > 1 {
						req.Part = &engine.ImportPart{From: p * 10000 / parts, Count: 10000 / parts}
					}
					rep, _, err := c.ImportProducts(context.Background(), "", req)
					if err != nil || !rep.Imported {
						b.Fatalf("import: %v %+v", err, rep)
					}
					created += rep.Created
				}
				b.StopTimer()
				if created != 10000 {
					b.Fatalf("created %d", created)
				}
				srv.Close()
				st.Close()
				b.StartTimer()
			}
		})
	}
}
