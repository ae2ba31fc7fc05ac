package warehouse

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Formats are the formats a Writer writes.
var Formats = []string{"parquet", "csv"}

// RowGroupRows is the most rows one Parquet row group holds, so the most
// a Parquet Writer buffers before writing them out.
const RowGroupRows = 32_768

// Options are a Writer's settings.
type Options struct {
	// From and To (zero: unbounded) keep the records whose updated_at is
	// in [From, To): an incremental load asks for what changed since the
	// last one. Records outside are skipped by Write.
	From, To time.Time
	// RowGroupRows (0: RowGroupRows) bounds a Parquet row group.
	RowGroupRows int
}

// Writer writes one collection's records, one at a time, as rows.
type Writer struct {
	dec  *decoder
	opt  Options
	rows int64
	// one of the two:
	pq   *parquet.Writer
	pqb  []parquet.Row
	csv  *csv.Writer
	buf  *bufio.Writer
	rec  []string
	done bool
}

// NewWriter answers a Writer of s's rows to out in format ("parquet" or
// "csv"); an unknown format is an error naming the formats.
func NewWriter(out io.Writer, s *Schema, format string, opt Options) (*Writer, error) {
	w := &Writer{dec: newDecoder(s), opt: opt}
	switch format {
	case "parquet":
		n := opt.RowGroupRows
		if n <= 0 {
			n = RowGroupRows
		}
		w.pq = parquet.NewWriter(out, parquet.NewSchema(s.Collection, s.parquetNode()),
			parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}), parquet.MaxRowsPerRowGroup(int64(n)),
			parquet.CreatedBy("gridcrm", "", ""), parquet.KeyValueMetadata("gridcrm.collection", s.Collection))
		w.pqb = make([]parquet.Row, 1)
	case "csv":
		w.buf = bufio.NewWriterSize(out, 64<<10)
		w.csv = csv.NewWriter(w.buf)
		w.csv.UseCRLF = true // RFC 4180
		w.rec = make([]string, len(s.Columns))
		if err := w.csv.Write(s.Names()); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("format %q: must be one of %s", format, strings.Join(Formats, ", "))
	}
	return w, nil
}

// ContentType is the media type of format.
func ContentType(format string) string {
	if format == "csv" {
		return "text/csv; charset=utf-8"
	}
	return "application/vnd.apache.parquet"
}

// Rows answers how many rows were written.
func (w *Writer) Rows() int64 { return w.rows }

// Write writes the record raw (its stored JSON) as a row, unless its
// updated_at is outside [From, To); it answers whether it did.
func (w *Writer) Write(raw []byte) (bool, error) {
	if w.done {
		return false, fmt.Errorf("write after close")
	}
	vals, err := w.dec.decode(raw)
	if err != nil {
		return false, err
	}
	if up := w.dec.meta().UpdatedAt; !w.opt.From.IsZero() && up.Before(w.opt.From) || !w.opt.To.IsZero() && !up.Before(w.opt.To) {
		return false, nil
	}
	if w.pq != nil {
		err = w.writeParquet(vals)
	} else {
		err = w.writeCSV(vals)
	}
	if err != nil {
		return false, err
	}
	w.rows++
	return true, nil
}

// Close writes what is buffered (Parquet: the last row group and the
// footer) to the output; it does not close the output.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.pq != nil {
		return w.pq.Close()
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	return w.buf.Flush()
}

func (w *Writer) writeParquet(vals []Value) error {
	row := w.pqb[0][:0]
	for i, col := range w.dec.s.Columns {
		def := 0
		if col.Nullable {
			def = 1
		}
		v := vals[i]
		var pv parquet.Value
		switch {
		case v.Null:
			pv, def = parquet.NullValue(), 0
		case col.Type == Int64:
			pv = parquet.Int64Value(v.I)
		case col.Type == Double:
			pv = parquet.DoubleValue(v.F)
		case col.Type == Bool:
			pv = parquet.BooleanValue(v.B)
		case col.Type == Timestamp:
			pv = parquet.Int64Value(v.T.UnixMicro())
		case col.Type == Date:
			pv = parquet.Int32Value(int32(v.T.Unix() / 86400))
		default: // String, JSON
			pv = parquet.ByteArrayValue([]byte(v.S))
		}
		row = append(row, pv.Level(0, def, i))
	}
	w.pqb[0] = row
	_, err := w.pq.WriteRows(w.pqb)
	return err
}

func (w *Writer) writeCSV(vals []Value) error {
	for i, col := range w.dec.s.Columns {
		w.rec[i] = csvText(col.Type, vals[i])
	}
	return w.csv.Write(w.rec)
}

// csvText is a value as CSV writes it: null is empty, numbers without an
// exponent, times RFC 3339 in UTC, dates YYYY-MM-DD, booleans true/false.
func csvText(t Type, v Value) string {
	if v.Null {
		return ""
	}
	switch t {
	case Int64:
		return strconv.FormatInt(v.I, 10)
	case Double:
		return strconv.FormatFloat(v.F, 'f', -1, 64)
	case Bool:
		return strconv.FormatBool(v.B)
	case Timestamp:
		return v.T.Format("2006-01-02T15:04:05.999999Z07:00")
	}
	return v.S // String, Date, JSON
}

// parquetNode is the schema's root group, its columns in the schema's
// order (parquet.Group alone orders them by name).
func (s *Schema) parquetNode() parquet.Node {
	g := parquet.Group{}
	for _, col := range s.Columns {
		var n parquet.Node
		switch col.Type {
		case Int64:
			n = parquet.Int(64)
		case Double:
			n = parquet.Leaf(parquet.DoubleType)
		case Bool:
			n = parquet.Leaf(parquet.BooleanType)
		case Timestamp:
			n = parquet.Timestamp(parquet.Microsecond)
		case Date:
			n = parquet.Date()
		case JSON:
			n = parquet.JSON()
		default:
			n = parquet.String()
		}
		if col.Nullable {
			n = parquet.Optional(n)
		}
		g[col.Name] = n
	}
	fields := g.Fields()
	byName := map[string]parquet.Field{}
	for _, f := range fields {
		byName[f.Name()] = f
	}
	ordered := make([]parquet.Field, 0, len(fields))
	for _, col := range s.Columns {
		ordered = append(ordered, byName[col.Name])
	}
	return orderedGroup{Group: g, fields: ordered}
}

// orderedGroup is a parquet group whose fields keep the given order.
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }
