package postgres

// VectorIndexName is vectorIndexName, for the tests.
var VectorIndexName = vectorIndexName
