package api

import (
	"net/http"
	"sync"
	"time"

	"posd/engine"
)

// BackupStarted is the answer to POST /api/backups: the owner's "Back up
// now" was accepted; the health view says when the backup is written.
type BackupStarted struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"startedAt"`
}

// backupKeys remembers the answers to POST /api/backups by business and
// key, so that a retry of the same press replays instead of starting a
// second backup. A backup is no document in the database, so the record
// lives in memory, for the answer TTL of the other routes' records.
type backupKeys struct {
	mu sync.Mutex
	m  map[string]backupAnswer
}

type backupAnswer struct {
	body []byte
	at   time.Time
}

// createBackup starts a backup at once (owner only). Every POST takes an
// Idempotency-Key, and this one too: a replay gets the first answer.
func createBackup(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	key, err := idempotencyKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := readBody(r, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in engine.EmptyInput
	if err := decodeStrict(body, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.ops.BackupNow == nil {
		s.writeError(w, r, engine.Errorf(engine.EINVALIDSTATE, "automatic backups are turned off on this posd (--backup-every 0); back up with posd backup on the back-office PC"))
		return
	}
	k := a.BusinessID + "\x00" + string(key)
	now := s.Now()
	s.backups.mu.Lock()
	defer s.backups.mu.Unlock()
	if s.backups.m == nil {
		s.backups.m = map[string]backupAnswer{}
	}
	for old, ans := range s.backups.m {
		if now.Sub(ans.at) > engine.DefaultIdempotencyTTL {
			delete(s.backups.m, old)
		}
	}
	if ans, ok := s.backups.m[k]; ok {
		w.Header().Set("X-Idempotent-Replay", "true")
		w.Header().Set("Idempotent-Replayed", "true")
		writeRaw(w, http.StatusAccepted, ans.body)
		return
	}
	if !s.ops.BackupNow() {
		s.writeError(w, r, engine.Errorf(engine.EINVALIDSTATE, "a backup is already running; wait until it is written"))
		return
	}
	out := BackupStarted{ID: engine.NewID(now), Status: "started", StartedAt: now.UTC().Truncate(time.Millisecond)}
	b := mustMarshal(out)
	s.backups.m[k] = backupAnswer{body: b, at: now}
	writeRaw(w, http.StatusAccepted, b)
}
