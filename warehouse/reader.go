package warehouse

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// The readers below read an export back (the tests, and the CLI's check
// of what it received): each row as a map from column name to a Go value
// — int64, float64, bool, string (text, JSON, a date as YYYY-MM-DD),
// time.Time (UTC) — or nil for null.

// ParquetRows answers the number of rows and the column names a Parquet
// file's footer declares, reading the footer only.
func ParquetRows(f io.ReaderAt, size int64) (int64, []string, error) {
	pf, err := parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return 0, nil, err
	}
	var names []string
	for _, fl := range pf.Schema().Fields() {
		names = append(names, fl.Name())
	}
	return pf.NumRows(), names, nil
}

// ReadParquet reads every row of a Parquet file, calling fn with each
// (the map is fn's to keep).
func ReadParquet(f io.ReaderAt, size int64, fn func(row map[string]any) error) ([]string, error) {
	pf, err := parquet.OpenFile(f, size)
	if err != nil {
		return nil, err
	}
	fields := pf.Schema().Fields()
	names := make([]string, len(fields))
	for i, fl := range fields {
		names[i] = fl.Name()
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 256)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			m := make(map[string]any, len(fields))
			for _, v := range row {
				i := v.Column()
				if i < 0 || i >= len(fields) {
					return names, fmt.Errorf("a value of column %d: the file has %d", i, len(fields))
				}
				m[names[i]] = goValue(fields[i], v)
			}
			if err := fn(m); err != nil {
				return names, err
			}
		}
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return names, err
		}
	}
}

// goValue is v of column f as a Go value.
func goValue(f parquet.Field, v parquet.Value) any {
	if v.IsNull() {
		return nil
	}
	if lt := f.Type().LogicalType(); lt != nil {
		switch lt.Value.(type) {
		case *format.TimestampType:
			return time.UnixMicro(v.Int64()).UTC()
		case *format.DateType:
			return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly)
		}
	}
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean()
	case parquet.Int32:
		return int64(v.Int32())
	case parquet.Int64:
		return v.Int64()
	case parquet.Double:
		return v.Double()
	case parquet.Float:
		return float64(v.Float())
	default:
		return string(v.ByteArray())
	}
}

// ReadCSV reads every row of a CSV export of s's collection, typed by s's
// columns, calling fn with each; the header must name s's columns.
func ReadCSV(r io.Reader, s *Schema, fn func(row map[string]any) error) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if !slices.Equal(head, s.Names()) {
		return fmt.Errorf("header %q, want %q", head, s.Names())
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		m := make(map[string]any, len(rec))
		for i, col := range s.Columns {
			if m[col.Name], err = parseCSV(col, rec[i]); err != nil {
				line, _ := cr.FieldPos(i)
				return fmt.Errorf("line %d, %s: %w", line, col.Name, err)
			}
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

func parseCSV(col Column, s string) (any, error) {
	if s == "" && col.Type != String {
		return nil, nil
	}
	switch col.Type {
	case Int64:
		return strconv.ParseInt(s, 10, 64)
	case Double:
		return strconv.ParseFloat(s, 64)
	case Bool:
		return strconv.ParseBool(s)
	case Timestamp:
		return time.Parse(time.RFC3339Nano, s)
	}
	return s, nil
}
