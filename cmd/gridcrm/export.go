package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gridcrm/warehouse"
)

// exportOptions are the flags of `gridcrm export`.
type exportOptions struct {
	collection, region, scope, format, from, to, out string
	tokenFile                                        string
}

func exportCmd() *cobra.Command {
	var cr credentials
	var o exportOptions
	c := &cobra.Command{
		Use:   "export",
		Short: "Stream a collection of a region (and its subtree) to a Parquet or CSV file for a data warehouse",
		Long: `Ask a running node for every record of one collection in a region — with
--scope subtree (the default) also the regions below it — as Parquet (zstd,
typed columns) or CSV (RFC 4180, UTF-8, a header row), streamed to --out
(GET /api/v1/export/<collection>). The columns are the records' fields
under their JSON names, first id, owner, version, created_at, updated_at,
created_by, updated_by; --from and --to (YYYY-MM-DD, China time, or RFC
3339) keep the records updated in [from, to), for an incremental load.

The file is written to <out>.tmp and renamed once it is complete: the node
ends a complete export with the row count (trailer X-Export-Rows), and a
Parquet file's footer must count the same rows; an export cut short never
replaces a good file. It logs in as --user with $GRIDCRM_PASSWORD or
--password-file, or uses a bearer token from $GRIDCRM_TOKEN or --token-file.

	gridcrm export --url https://city.example:8400 --collection bills \
	    --region 32 --scope subtree --format parquet --out bills.parquet`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExport(cmd.Context(), cmd.OutOrStdout(), &cr, &o)
		},
	}
	cr.flags(c)
	f := c.Flags()
	f.StringVar(&cr.url, "node", "http://127.0.0.1:8400", "the same as --url")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding a bearer token to use instead of logging in (default: $GRIDCRM_TOKEN)")
	f.StringVar(&o.collection, "collection", "", "the collection to export (required): "+strings.Join(warehouse.Collections(), ", "))
	f.StringVar(&o.region, "region", "", "the region code (default: the node's region, or the user's when it lies below)")
	f.StringVar(&o.scope, "scope", "subtree", "region (the region's own records) or subtree (and the regions below it)")
	f.StringVar(&o.format, "format", "", "parquet or csv (default: from --out's extension, else parquet)")
	f.StringVar(&o.from, "from", "", "only records updated at or after this day or time")
	f.StringVar(&o.to, "to", "", "only records updated before this day or time")
	f.StringVar(&o.out, "out", "", "the file to write (required)")
	return c
}

// check checks the flags before anything is asked of the node, naming
// the flag at fault.
func (o *exportOptions) check() error {
	switch {
	case o.collection == "":
		return errors.New("--collection is required: one of " + strings.Join(warehouse.Collections(), ", "))
	case !slices.Contains(warehouse.Collections(), o.collection):
		return fmt.Errorf("--collection %q: no such collection; collections: %s", o.collection, strings.Join(warehouse.Collections(), ", "))
	case o.out == "":
		return errors.New("--out is required: the file to write")
	case o.scope != "region" && o.scope != "subtree":
		return fmt.Errorf("--scope %q: must be region or subtree", o.scope)
	}
	if o.format == "" {
		o.format = "parquet"
		if strings.HasSuffix(strings.ToLower(o.out), ".csv") {
			o.format = "csv"
		}
	}
	if !slices.Contains(warehouse.Formats, o.format) {
		return fmt.Errorf("--format %q: must be one of %s", o.format, strings.Join(warehouse.Formats, ", "))
	}
	return nil
}

// query is the export's query string.
func (o *exportOptions) query() string {
	q := url.Values{"format": {o.format}, "scope": {o.scope}}
	for k, v := range map[string]string{"region": o.region, "from": o.from, "to": o.to} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

func runExport(ctx context.Context, w io.Writer, cr *credentials, o *exportOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var cl *apiClient
	token := os.Getenv("GRIDCRM_TOKEN")
	if o.tokenFile != "" {
		raw, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(raw))
	}
	if token != "" {
		cl = &apiClient{base: strings.TrimRight(cr.url, "/"), token: token, http: &http.Client{}}
	} else {
		var err error
		if cl, err = cr.login(ctx); err != nil {
			return err
		}
		cl.http.Timeout = 0 // a province's export takes a while
	}
	start := time.Now()
	rows, size, err := exportTo(ctx, cl, o)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(w, "export: %s: %d rows of %s, %d bytes (%s) from %s in %.1f s (%.0f rows/s)\n",
		o.out, rows, o.collection, size, o.format, cl.base, secs, float64(rows)/max(secs, 1e-9))
	return nil
}

// exportTo streams the export to o.out+".tmp", checks it is complete and
// renames it to o.out.
func exportTo(ctx context.Context, cl *apiClient, o *exportOptions) (rows, size int64, err error) {
	path := "/api/v1/export/" + url.PathEscape(o.collection) + "?" + o.query()
	req, err := http.NewRequestWithContext(ctx, "GET", cl.base+path, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+cl.token)
	resp, err := cl.http.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("export: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, 0, fmt.Errorf("export: %s answered %d: %s", cl.base, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	tmp := o.out + ".tmp"
	if size, err = writeSynced(tmp, resp.Body); err != nil {
		return 0, size, fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp) // no-op after the rename
	trailer := resp.Trailer.Get("X-Export-Rows")
	if trailer == "" {
		return 0, size, fmt.Errorf("export: the node's stream ended without its row count (cut short after %d bytes; see the node's log): %s was not written", size, o.out)
	}
	if rows, err = strconv.ParseInt(trailer, 10, 64); err != nil {
		return 0, size, fmt.Errorf("export: the node's row count %q: %w", trailer, err)
	}
	if o.format == "parquet" {
		rf, err := os.Open(tmp)
		if err != nil {
			return 0, size, err
		}
		n, _, err := warehouse.ParquetRows(rf, size)
		rf.Close()
		if err != nil || n != rows {
			return 0, size, fmt.Errorf("export: the Parquet file does not check out (footer: %d rows, %v; the node sent %d): %s was not written", n, err, rows, o.out)
		}
	}
	return rows, size, os.Rename(tmp, o.out)
}
