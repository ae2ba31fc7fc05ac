package node

import (
	"fmt"
	"time"
)

// APILimits are the public API's per-node limits on imports and its
// listener's timeouts (YAML keys at the top level of the node's config;
// flags with dashes). Zero is the default; Validate fills it in and refuses
// a value out of range, naming the setting.
type APILimits struct {
	// MaxImports is how many imports this node reads, checks and commits at
	// once; one more answers 429 too_many_imports with Retry-After
	// ImportRetryAfter. Each holds about its body (at most 32 MiB) while it
	// runs. Default 2, at most 64.
	MaxImports       int           `yaml:"max_imports"`
	ImportRetryAfter time.Duration `yaml:"import_retry_after"` // default 5s, 1s to 1h

	// The public listener's timeouts, each 1s to 24h.
	APIReadHeaderTimeout time.Duration `yaml:"api_read_header_timeout"` // a request's headers; default 10s
	APIReadTimeout       time.Duration `yaml:"api_read_timeout"`        // a request's body, from its headers (408 beyond); default 30s
	APIImportReadTimeout time.Duration `yaml:"api_import_read_timeout"` // an import's body; default 5m
	APIWriteTimeout      time.Duration `yaml:"api_write_timeout"`       // an answer, from the request's headers (the backup stream has none); default 2m
	APIIdleTimeout       time.Duration `yaml:"api_idle_timeout"`        // a kept-alive connection without a request; default 2m
}

// DefaultAPILimits are the limits a node runs with when none is set.
func DefaultAPILimits() APILimits {
	return APILimits{MaxImports: 2, ImportRetryAfter: 5 * time.Second, APIReadHeaderTimeout: 10 * time.Second,
		APIReadTimeout: 30 * time.Second, APIImportReadTimeout: 5 * time.Minute, APIWriteTimeout: 2 * time.Minute, APIIdleTimeout: 2 * time.Minute}
}

// maxImportsLimit bounds max_imports: 64 imports of 32 MiB hold 2 GiB.
const maxImportsLimit = 64

// validate fills in the defaults and refuses values out of range.
func (l *APILimits) validate() error {
	d := DefaultAPILimits()
	switch {
	case l.MaxImports == 0:
		l.MaxImports = d.MaxImports
	case l.MaxImports < 0 || l.MaxImports > maxImportsLimit:
		return fmt.Errorf("node: max_imports %d: want 1 to %d (each import holds up to its 32 MiB body while it runs)", l.MaxImports, maxImportsLimit)
	}
	for _, s := range []struct {
		name     string
		v        *time.Duration
		def, max time.Duration
	}{
		{"import_retry_after", &l.ImportRetryAfter, d.ImportRetryAfter, time.Hour},
		{"api_read_header_timeout", &l.APIReadHeaderTimeout, d.APIReadHeaderTimeout, 24 * time.Hour},
		{"api_read_timeout", &l.APIReadTimeout, d.APIReadTimeout, 24 * time.Hour},
		{"api_import_read_timeout", &l.APIImportReadTimeout, d.APIImportReadTimeout, 24 * time.Hour},
		{"api_write_timeout", &l.APIWriteTimeout, d.APIWriteTimeout, 24 * time.Hour},
		{"api_idle_timeout", &l.APIIdleTimeout, d.APIIdleTimeout, 24 * time.Hour},
	} {
		switch {
		case *s.v == 0:
			*s.v = s.def
		case *s.v < time.Second || *s.v > s.max:
			return fmt.Errorf("node: %s %s: want a duration from 1s to %s, with its unit (e.g. %s)", s.name, *s.v, s.max, s.def)
		}
	}
	return nil
}
