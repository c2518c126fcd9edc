// Package config owns alertd.yml: its schema, defaults, loading with
// unknown keys as errors, validation and the redaction of secrets.
//
// It imports nothing of alertd's own.
package config
