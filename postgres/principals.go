package postgres

import (
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// PrincipalTTL is how long Authenticate trusts a key it has read: every
// request of the answer path used to read its key and workspace, a round
// trip and about 0.23 ms of the database's CPU (BENCHMARKS.md). Within the
// TTL a key revoked, or a workspace's settings or a widget key's origins
// changed, through another replica still holds as it was on this one;
// through this replica the change holds at once (every such write empties
// the cache). Unknown and revoked keys are never cached: a new key works
// at once everywhere, and a refused key is asked about again each time.
const PrincipalTTL = 5 * time.Second

// principalCacheMax bounds the keys remembered; past it, the expired
// entries go, then, if none had, all of them.
const principalCacheMax = 10000

// principalCache remembers the principals of valid keys, by the SHA-256 of
// the secret, for ttl.
type principalCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cachedPrincipal
	cleared uint64 // how many times clear ran, so a read older than a change is not kept
}

type cachedPrincipal struct {
	p  parley.Principal
	at time.Time
}

func newPrincipalCache(ttl time.Duration) *principalCache {
	return &principalCache{ttl: ttl, entries: map[string]cachedPrincipal{}}
}

// get returns the principal of the key hash, if read less than ttl ago.
func (c *principalCache) get(hash []byte) (parley.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || time.Since(e.at) >= c.ttl {
		return parley.Principal{}, false
	}
	return e.p, true
}

// reading marks the start of a read of a key from the database: it returns
// what put needs to tell whether the cache was emptied since.
func (c *principalCache) reading() (time.Time, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now(), c.cleared
}

// put remembers the principal of the key hash, read from the database
// since at, when cleared (from reading) is still current: a change made
// on this replica meanwhile may postdate the read.
func (c *principalCache) put(hash []byte, p parley.Principal, at time.Time, cleared uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 || cleared != c.cleared {
		return
	}
	if len(c.entries) >= principalCacheMax {
		for k, e := range c.entries {
			if time.Since(e.at) >= c.ttl {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= principalCacheMax {
			clear(c.entries)
		}
	}
	c.entries[string(hash)] = cachedPrincipal{p: p, at: at}
}

// clear forgets every principal: a key or a workspace changed.
func (c *principalCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.cleared++
}
