package pgstore

import "context"

// ExecForTest runs one statement on the store's database, for tests that
// break or age a database on purpose.
func ExecForTest(s *Store, sql string, args ...any) error {
	_, err := s.pool.Exec(context.Background(), sql, args...)
	return err
}
