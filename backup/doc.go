// Package backup takes consistent copies of a posd database while it keeps
// serving, checks them, restores them and keeps a rotation of automatic
// ones. It reaches the database only through the small interfaces it
// defines (Source, Database, Opener), so it does not depend on bbolt; the
// domain checks are the engine's (engine.Service.Verify).
//
// A backup is two files side by side:
//
//	NAME           the database itself, a plain posd database file that
//	               posd can open as it is (mode 0600);
//	NAME.manifest.json
//	               what was written: format and schema version, creation
//	               time, size, SHA-256, and per business the document counts
//	               and the last number of every series.
//
// The manifest lets a backup be checked on its own, long after it was made
// and away from the shop: Verify recomputes the hash, opens the copy
// read-only, runs the storage check and the domain checks, and compares the
// figures with the manifest. A backup is written to a temporary file in the
// target folder, synced, read back and verified, and only then renamed into
// place (with its manifest), so a backup file that exists is a whole one.
package backup
