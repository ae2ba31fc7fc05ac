package main

import (
	"time"

	"github.com/spf13/cobra"

	"gridcrm/node"
)

// apiLimitFlags adds the flags of node.APILimits (concurrent imports and
// the public listener's timeouts) to c, over l.
func apiLimitFlags(c *cobra.Command, l *node.APILimits) {
	d := node.DefaultAPILimits()
	f := c.Flags()
	f.IntVar(&l.MaxImports, "max-imports", d.MaxImports, "imports this node runs at once; one more answers 429 too_many_imports (1 to 64; each holds up to its 32 MiB body)")
	f.DurationVar(&l.ImportRetryAfter, "import-retry-after", d.ImportRetryAfter, "Retry-After of a 429 too_many_imports")
	f.DurationVar(&l.APIReadHeaderTimeout, "api-read-header-timeout", d.APIReadHeaderTimeout, "public API: time for a request's headers")
	f.DurationVar(&l.APIReadTimeout, "api-read-timeout", d.APIReadTimeout, "public API: time for a request's body, from its headers (408 beyond)")
	f.DurationVar(&l.APIImportReadTimeout, "api-import-read-timeout", d.APIImportReadTimeout, "public API: time for an import's body")
	f.DurationVar(&l.APIWriteTimeout, "api-write-timeout", d.APIWriteTimeout, "public API: time for an answer, from the request's headers (not the backup stream)")
	f.DurationVar(&l.APIIdleTimeout, "api-idle-timeout", d.APIIdleTimeout, "public API: how long a kept-alive connection may wait for its next request")
}

// mergeAPILimits copies the limits whose flags were set over the file's.
func mergeAPILimits(set func(string) bool, dst *node.APILimits, src node.APILimits) {
	for _, m := range []struct {
		flag     string
		dst, src any
	}{
		{"max-imports", &dst.MaxImports, src.MaxImports},
		{"import-retry-after", &dst.ImportRetryAfter, src.ImportRetryAfter},
		{"api-read-header-timeout", &dst.APIReadHeaderTimeout, src.APIReadHeaderTimeout},
		{"api-read-timeout", &dst.APIReadTimeout, src.APIReadTimeout},
		{"api-import-read-timeout", &dst.APIImportReadTimeout, src.APIImportReadTimeout},
		{"api-write-timeout", &dst.APIWriteTimeout, src.APIWriteTimeout},
		{"api-idle-timeout", &dst.APIIdleTimeout, src.APIIdleTimeout},
	} {
		if !set(m.flag) {
			continue
		}
		switch d := m.dst.(type) {
		case *int:
			*d = m.src.(int)
		case *time.Duration:
			*d = m.src.(time.Duration)
		}
	}
}
