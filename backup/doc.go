// Package backup takes consistent copies of a posd database while it keeps
// serving, checks them, and restores them. It reaches the database only
// through a small interface it defines, so it does not depend on bbolt.
package backup
