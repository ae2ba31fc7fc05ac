package credit

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ErrMalformed matches every error ReadCSV answers for a row it refuses;
// the message names the line and the column.
var ErrMalformed = errors.New("credit: malformed row")

// Month is a calendar month counted from year 0: year*12 + (month-1).
type Month int

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	if len(s) != 7 || s[4] != '-' {
		return 0, fmt.Errorf("credit: month %q: want YYYY-MM", s)
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:])
	if err1 != nil || err2 != nil || m < 1 || m > 12 {
		return 0, fmt.Errorf("credit: month %q: want YYYY-MM", s)
	}
	return Month(y*12 + m - 1), nil
}

// String is YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", int(m)/12, int(m)%12+1) }

// Category of a customer as in the file.
type Category string

// The categories the file knows.
const (
	Residential       Category = "residential"
	GeneralCommercial Category = "general_commercial"
	LargeIndustrial   Category = "large_industrial"
)

// Business reports whether churn risk applies (commercial and industrial).
func (c Category) Business() bool { return c == GeneralCommercial || c == LargeIndustrial }

// Bill is one customer month.
type Bill struct {
	Month       Month
	Tenure      int // months, at that month
	DirectDebit bool
	KWh, Yuan   float64
	DaysLate    int // 0 = paid on time
	Unpaid      bool
	Violation   bool // 违约用电
	Theft       bool // 窃电
	Closed      bool // the account closed this month; no later rows
}

// Customer is one account's monthly history, sorted by month.
type Customer struct {
	ID       string
	Category Category
	Bills    []Bill
	// Marks are the violations and thefts recorded for the customer
	// (marks.go); the credit file has none (its bills carry flags).
	Marks []Mark
}

var header = []string{"customer_id", "category", "direct_debit", "tenure_months", "month", "kwh", "billed_yuan", "days_late", "unpaid_at_next_bill", "violation", "theft", "closed"}

// ReadCSV reads the credit history format (plain or gzip-compressed, told
// apart by the gzip magic bytes): a header naming the twelve columns, then
// one row per customer month in any order. A row with a wrong field count,
// an unknown category, a bad month, number or 0/1 flag, or a month given
// twice for one customer is refused with its line. Customers are answered
// sorted by id, their bills by month.
func ReadCSV(r io.Reader) ([]Customer, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("credit: gzip: %w", err)
		}
		defer gz.Close()
		br = bufio.NewReader(gz)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	first, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("credit: header: %w", err)
	}
	if len(first) > 0 {
		first[0] = strings.TrimPrefix(first[0], "\ufeff")
	}
	if !slices.Equal(first, header) {
		return nil, fmt.Errorf("%w: line 1: header %q; want %q", ErrMalformed, strings.Join(first, ","), strings.Join(header, ","))
	}
	byID := map[string]*Customer{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		bad := func(col int, why string) error {
			return fmt.Errorf("%w: line %d: %s %q: %s", ErrMalformed, line, header[col], rec[col], why)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%w: line %d: %d fields; want %d", ErrMalformed, line, len(rec), len(header))
		}
		cat := Category(rec[1])
		if cat != Residential && cat != GeneralCommercial && cat != LargeIndustrial {
			return nil, bad(1, "unknown category")
		}
		var b Bill
		flags := []*bool{&b.DirectDebit, &b.Unpaid, &b.Violation, &b.Theft, &b.Closed}
		for i, col := range []int{2, 8, 9, 10, 11} {
			switch rec[col] {
			case "0":
			case "1":
				*flags[i] = true
			default:
				return nil, bad(col, "want 0 or 1")
			}
		}
		if b.Month, err = ParseMonth(rec[4]); err != nil {
			return nil, bad(4, "want YYYY-MM")
		}
		if b.Tenure, err = strconv.Atoi(rec[3]); err != nil || b.Tenure < 0 {
			return nil, bad(3, "want a whole number ≥ 0")
		}
		if b.DaysLate, err = strconv.Atoi(rec[7]); err != nil || b.DaysLate < 0 {
			return nil, bad(7, "want a whole number ≥ 0")
		}
		if b.KWh, err = strconv.ParseFloat(rec[5], 64); err != nil || b.KWh < 0 {
			return nil, bad(5, "want a number ≥ 0")
		}
		if b.Yuan, err = strconv.ParseFloat(rec[6], 64); err != nil {
			return nil, bad(6, "want a number")
		}
		c := byID[rec[0]]
		if c == nil {
			c = &Customer{ID: strings.Clone(rec[0]), Category: Category(strings.Clone(rec[1]))}
			byID[c.ID] = c
		}
		c.Bills = append(c.Bills, b)
	}
	out := make([]Customer, 0, len(byID))
	for _, c := range byID {
		slices.SortFunc(c.Bills, func(a, b Bill) int { return int(a.Month - b.Month) })
		for i := 1; i < len(c.Bills); i++ {
			if c.Bills[i].Month == c.Bills[i-1].Month {
				return nil, fmt.Errorf("%w: customer %s has month %v twice", ErrMalformed, c.ID, c.Bills[i].Month)
			}
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Customer) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// LastMonth is the latest month in any customer's history.
func LastMonth(cs []Customer) Month {
	var last Month
	for _, c := range cs {
		if n := len(c.Bills); n > 0 && c.Bills[n-1].Month > last {
			last = c.Bills[n-1].Month
		}
	}
	return last
}

// upTo is the prefix of bills with month ≤ asOf.
func upTo(bills []Bill, asOf Month) []Bill {
	i, _ := slices.BinarySearchFunc(bills, asOf+1, func(b Bill, m Month) int { return int(b.Month - m) })
	return bills[:i]
}
