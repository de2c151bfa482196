module posd

go 1.26.8

require (
	github.com/google/uuid v1.6.0
	github.com/gorilla/mux v1.8.1
	go.etcd.io/bbolt v1.5.0
	golang.org/x/sys v0.45.0
)
