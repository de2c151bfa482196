package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"posd/backup"
)

// adminFile is where serve publishes its local admin endpoint, in the data
// directory: {"url", "secret", "pid"}, mode 0600.
//
// The endpoint is how posd backup (and posd verify --data-dir) reach a
// database that serve holds locked. It listens on 127.0.0.1 only, on a
// port of its own that the LAN never sees, and answers only a bearer secret
// that serve draws at start and writes into this file. Reading the file
// needs the rights of the account posd runs as (root or the service
// account), the same proof of ownership as posd token: whoever can read
// the data directory can read the database anyway. Owner tokens are
// deliberately not enough: a backup holds every business in the file, and
// an owner token speaks for one.
const adminFile = "posd.admin.json"

type adminInfo struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
	PID    int    `json:"pid"`
}

// adminServer serves snapshots of the running database on loopback.
type adminServer struct {
	dir    string
	snap   backup.Snapshotter
	secret string
	log    *slog.Logger
	mu     sync.Mutex // one snapshot at a time
	srv    *http.Server
}

// startAdmin starts the endpoint and publishes it in dir.
func startAdmin(dir string, snap backup.Snapshotter, log *slog.Logger) (*adminServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot open the local backup endpoint: %v", err)
	}
	var b [32]byte
	rand.Read(b[:])
	a := &adminServer{dir: dir, snap: snap, secret: base64.RawURLEncoding.EncodeToString(b[:]), log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", a.backup)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	info, _ := json.Marshal(adminInfo{URL: "http://" + ln.Addr().String(), Secret: a.secret, PID: os.Getpid()})
	tmp := filepath.Join(dir, "."+adminFile+".tmp")
	if err := os.WriteFile(tmp, info, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, adminFile)); err != nil {
		ln.Close()
		return nil, err
	}
	go a.srv.Serve(ln)
	return a, nil
}

// stop closes the endpoint and withdraws the file, unless another posd
// already replaced it.
func (a *adminServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	a.srv.Shutdown(ctx)
	path := filepath.Join(a.dir, adminFile)
	if b, err := os.ReadFile(path); err == nil {
		var info adminInfo
		if json.Unmarshal(b, &info) == nil && info.Secret == a.secret {
			os.Remove(path)
		}
	}
}

// backup snapshots the database into a temporary file first and streams
// that: the read transaction lasts as long as a local disk write, never as
// long as a slow reader.
func (a *adminServer) backup(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		http.Error(w, "local requests only", http.StatusForbidden)
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") || subtle.ConstantTimeCompare([]byte(auth[7:]), []byte(a.secret)) != 1 {
		http.Error(w, "wrong secret", http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	tmp, err := os.CreateTemp(a.dir, ".snapshot-*.tmp")
	if err != nil {
		a.log.Error("backup endpoint", "err", err)
		http.Error(w, "cannot write a snapshot: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	start := time.Now()
	n, err := a.snap.Snapshot(r.Context(), bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		a.log.Error("backup endpoint: snapshot", "err", err)
		http.Error(w, "snapshot failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	a.log.Info("snapshot taken for a local backup", "bytes", n, "took", time.Since(start).Round(time.Millisecond))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.Header().Set("X-Posd-Sha256", hex.EncodeToString(h.Sum(nil)))
	io.Copy(w, tmp)
}

// errNoAdmin says the running posd published no endpoint.
var errNoAdmin = errors.New("no local backup endpoint")

// remoteSource returns a backup.Source that downloads a snapshot from the
// posd serving dir, checking length and hash on arrival.
func remoteSource(dir string) (backup.Source, error) {
	path := filepath.Join(dir, adminFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: posd is running on %s but %s is missing (is it an older posd? stop it and run the command again)", errNoAdmin, dir, path)
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("posd is running on %s; reaching it needs %s, which this user may not read: run as the account posd runs as (e.g. with sudo)", dir, path)
	}
	if err != nil {
		return nil, err
	}
	var info adminInfo
	if err := json.Unmarshal(b, &info); err != nil || info.URL == "" || info.Secret == "" {
		return nil, fmt.Errorf("%s is damaged; restart posd to rewrite it", path)
	}
	return func(ctx context.Context, w io.Writer) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", info.URL+"/backup", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+info.Secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("cannot reach the running posd (pid %d) at %s: %v", info.PID, info.URL, err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(res.Body, 1000))
			return 0, fmt.Errorf("the running posd refused the backup: %s: %s", res.Status, strings.TrimSpace(string(msg)))
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), res.Body)
		if err != nil {
			return n, err
		}
		if n != res.ContentLength || hex.EncodeToString(h.Sum(nil)) != res.Header.Get("X-Posd-Sha256") {
			return n, fmt.Errorf("the snapshot arrived damaged (%d of %d bytes, or a wrong hash)", n, res.ContentLength)
		}
		return n, nil
	}, nil
}
