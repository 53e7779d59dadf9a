package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley/postgres"
)

// cpuMeter measures the CPU time the answer path spends in this process
// and in the database's server processes, which a loaded machine's waits
// for a core do not inflate as they do latencies. The server processes'
// time is read from /proc (Linux, database on this host); elsewhere only
// this process's is known.
type cpuMeter struct {
	db      *postgres.DB
	self    time.Duration
	backend map[int]time.Duration // by process id, at the start
	// procOK is false when /proc shows no server process (remote database).
	procOK bool
}

// startCPU notes the CPU times so far.
func startCPU(ctx context.Context, db *postgres.DB) (*cpuMeter, error) {
	m := &cpuMeter{db: db, self: selfCPU()}
	b, ok, err := backendCPU(ctx, db)
	if err != nil {
		return nil, err
	}
	m.backend, m.procOK = b, ok
	return m, nil
}

// stop returns the CPU this process and the database's server processes
// used since start (database -1 when it cannot be read). A server process
// started since counts whole; one that ended since is not counted.
func (m *cpuMeter) stop(ctx context.Context) (self, database time.Duration, err error) {
	self = selfCPU() - m.self
	b, ok, err := backendCPU(ctx, m.db)
	if err != nil {
		return 0, 0, err
	}
	if !ok || !m.procOK {
		return self, -1, nil
	}
	for pid, t := range b {
		database += t - m.backend[pid]
	}
	return self, database, nil
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU returns the CPU time on a core so far of each of the
// database's server processes that /proc shows (ok false when it shows
// none of them).
func backendCPU(ctx context.Context, db *postgres.DB) (map[int]time.Duration, bool, error) {
	pids, err := db.BackendPIDs(ctx)
	if err != nil {
		return nil, false, err
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		if t, ok := schedCPU(pid); ok {
			out[pid] = t
		}
	}
	return out, len(out) > 0, nil
}

// schedCPU reads a process's time on a core from /proc/PID/schedstat
// (nanoseconds, its first field).
func schedCPU(pid int) (time.Duration, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0, false
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns), err == nil
}
