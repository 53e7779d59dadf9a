package postgres

// VectorIndexName is vectorIndexName, for the tests.
var VectorIndexName = vectorIndexName

// EfSearch is efSearch, for the tests.
var EfSearch = efSearch
