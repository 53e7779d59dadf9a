package postgres

import "time"

// VectorIndexName is vectorIndexName, for the tests.
var VectorIndexName = vectorIndexName

// SetPrincipalTTL replaces the cache of keys' principals with an empty one
// that keeps them for ttl, for the tests.
func (db *DB) SetPrincipalTTL(ttl time.Duration) { db.principals = newPrincipalCache(ttl) }

// EfSearch is efSearch, for the tests.
var EfSearch = efSearch
