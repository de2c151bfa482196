// Package posdproc runs the real posd binary as a child process, for the
// tests and tools under cmd that drive it as a user would: the command's
// own tests (cmd/posd), the load generator (cmd/posd-load) and the fault
// harness (cmd/posd-fault). It builds posd, finds a free port, starts a
// process, waits until it answers GET /api/health, and stops it with
// SIGTERM (SIGKILL when it does not stop in time), keeping the end of its
// stderr for the error messages.
//
// What only one caller needs stays with that caller: the fault harness's
// supervisor that restarts a posd that died (also while starting), the
// command tests' reading of what serve prints, the load generator's log
// files and start-up timing.
package posdproc
