// Package warehouse writes a collection's records as rows a data warehouse
// loads (DuckDB, ClickHouse, Spark): Apache Parquet, written with
// github.com/parquet-go/parquet-go, or CSV (RFC 4180, UTF-8, a header
// row). The API's GET /api/v1/export/{collection} (api/warehouse.go) and
// the CLI's `gridcrm export` use it.
//
// What it promises:
//
//   - A typed schema per collection (For), derived from the collection's Go
//     record type in package crm, so every collection crm registers has one
//     and a field added there becomes a column here: the column names are
//     the records' JSON names (ASCII snake_case, no Chinese), first the
//     metadata every record carries (id, owner — the region that owns the
//     record —, version, created_at, updated_at, created_by, updated_by),
//     then the collection's fields in their declaration order. A
//     collection's private fields (a user's password hash, a bulletin's
//     HTML and PDF) are never columns.
//   - Types: whole numbers are int64, amounts and quantities double, times
//     timestamps (UTC, microseconds: the nanoseconds a record may carry are
//     cut), calendar days (crm.Date) dates, flags booleans, text strings;
//     what is nested (stages, history, notices, lists of strings, a
//     directive's body) is one column of JSON text (Parquet's JSON logical
//     type), as the API answers it. A pointer field, a zero time, an empty
//     date or nested value is null (Parquet: an optional column; CSV: an
//     empty field, which CSV cannot tell from an empty string).
//   - Constant memory: a Writer takes one record at a time; Parquet rows
//     are buffered up to one row group (RowGroupRows rows) and then written
//     out, zstd-compressed; CSV rows go out as they come, through a
//     buffer. Neither holds the whole export.
//   - The rows read back equal the records: the tests read each format
//     back (parquet-go's reader, encoding/csv) and compare every field with
//     the records the API lists.
//
// What it does not do: choose the records (the caller pages through the
// store, in region scope), check roles, or make a consistent snapshot of a
// changing collection.
package warehouse
