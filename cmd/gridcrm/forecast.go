package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gridcrm/analytics/forecast"
)

func forecastCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "forecast",
		Short: "Monthly energy and peak forecasts from hourly load CSVs (电量需求预测)",
	}
	c.AddCommand(forecastEvaluateCmd(), forecastRunCmd())
	return c
}

func forecastEvaluateCmd() *cobra.Command {
	var csvs []string
	var years []int
	var compare, byHorizon bool
	c := &cobra.Command{
		Use:   "evaluate",
		Short: "Backtest the forecast against the seasonal naive on rolling origins",
		Long: `Read hourly load CSVs (files or directories of *.csv), build monthly
energy (sum of hourly MW; months with fewer than 27 days of hours dropped)
and peak (max MW), and backtest: 24 rolling origins, the last of them 12
months before the end of the series, horizons 1..12, MAPE over all 288
(origin, horizon) pairs beside the seasonal naive (same month one year
earlier) and their ratio, with the coverage of the 80% and 95% intervals.
--years 0,5,7,10 repeats it on the last N years only (0: all), so that a
method that needs long history shows it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			series, err := loadSeries(csvs)
			if err != nil {
				return err
			}
			methods := []forecast.Method{forecast.Default()}
			if compare {
				methods = append(methods, forecast.Candidates()...)
			}
			return renderEvaluation(cmd.OutOrStdout(), series, methods, years, byHorizon)
		},
	}
	c.Flags().StringArrayVar(&csvs, "csv", nil, "hourly load CSV file or directory of them (repeatable)")
	c.Flags().IntSliceVar(&years, "years", []int{0}, "evaluate on the last N years only; 0 = all (comma-separated list)")
	c.Flags().BoolVar(&compare, "compare", false, "also evaluate the candidate methods the default was chosen from")
	c.Flags().BoolVar(&byHorizon, "by-horizon", false, "also print the MAPE of each horizon 1..12")
	c.MarkFlagRequired("csv")
	return c
}

func forecastRunCmd() *cobra.Command {
	var csvs []string
	var horizon, years int
	c := &cobra.Command{
		Use:   "run",
		Short: "Forecast the months after the end of each series, with intervals and quarterly/yearly totals",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			series, err := loadSeries(csvs)
			if err != nil {
				return err
			}
			cfg := forecast.DefaultConfig()
			cfg.Horizon, cfg.Years = horizon, years
			for _, s := range series {
				o, err := forecast.Forecast(s, forecast.Default(), cfg)
				if err != nil {
					return err
				}
				renderOutlook(cmd.OutOrStdout(), o)
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&csvs, "csv", nil, "hourly load CSV file or directory of them (repeatable)")
	c.Flags().IntVar(&horizon, "horizon", 12, "months to forecast (1..36)")
	c.Flags().IntVar(&years, "years", 0, "fit on the last N years only; 0 = all")
	c.MarkFlagRequired("csv")
	return c
}

// loadSeries reads every CSV named (directories: their *.csv, sorted) into
// a monthly series named after the header's load column or the file.
func loadSeries(paths []string) ([]forecast.Series, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "*.csv"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("forecast: %s holds no *.csv", p)
		}
		slices.Sort(m)
		files = append(files, m...)
	}
	var out []forecast.Series
	for _, f := range files {
		s, err := readSeries(f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func readSeries(path string) (forecast.Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return forecast.Series{}, err
	}
	defer f.Close()
	h, err := forecast.ReadHourly(f, path)
	if err != nil {
		return forecast.Series{}, err
	}
	if h.Name == "" {
		h.Name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".csv"), "_hourly")
	}
	s := forecast.Monthly(h, forecast.MinDays)
	if s.Len() == 0 {
		return s, fmt.Errorf("forecast: %s: no month has %d days of hours", path, forecast.MinDays)
	}
	return s, nil
}

func renderEvaluation(w io.Writer, series []forecast.Series, methods []forecast.Method, years []int, byHorizon bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "zone\tyears\tmethod\tmonths\torigins\tpairs\tMAPE\ts-naive\tratio\tcov80\tcov95\tpeak MAPE\tpeak s-naive\tpeak ratio\tpeak cov80\tpeak cov95\t")
	type row struct {
		name string
		h    []float64
	}
	var horizons []row
	for _, s := range series {
		for _, y := range years {
			for _, m := range methods {
				cfg := forecast.DefaultConfig()
				cfg.Years = y
				label := "all"
				if y > 0 {
					label = fmt.Sprint(y)
				}
				ev, err := forecast.Evaluate(s, m, cfg)
				if err != nil {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t\t\t\t\t\t\t\t\t\t\t\t\t\n", s.Name, label, m.Name(), err)
					continue
				}
				e, p := ev.Energy, ev.Peak
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v..%v\t%v..%v\t%d\t%.2f%%\t%.2f%%\t%.3f\t%.2f\t%.2f\t%.2f%%\t%.2f%%\t%.3f\t%.2f\t%.2f\t\n",
					s.Name, label, m.Name(), ev.First, ev.Last, ev.FirstOrigin, ev.LastOrigin, e.Pairs,
					e.MAPE, e.Baseline, e.Ratio(), e.Cover[0], e.Cover[1],
					p.MAPE, p.Baseline, p.Ratio(), p.Cover[0], p.Cover[1])
				horizons = append(horizons, row{fmt.Sprintf("%s %s %s", s.Name, label, m.Name()), e.ByHorizon})
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if byHorizon {
		fmt.Fprintln(w, "\nenergy MAPE (%) by horizon 1..12:")
		for _, r := range horizons {
			fmt.Fprintf(w, "%-40s", r.name)
			for _, v := range r.h {
				fmt.Fprintf(w, " %5.2f", v)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func renderOutlook(w io.Writer, o forecast.Outlook) {
	fmt.Fprintf(w, "%s: forecast from %v (last month known), energy MWh, peak MW\n", o.Name, o.Origin)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "month\tenergy\t80% lo\t80% hi\t95% lo\t95% hi\tpeak\t80% lo\t80% hi\t")
	e, p := o.Energy, o.Peak
	for h := range e.Point {
		fmt.Fprintf(tw, "%v\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t", e.Start+forecast.Month(h), e.Point[h], e.Lo[0][h], e.Hi[0][h], e.Lo[1][h], e.Hi[1][h])
		if p.Point != nil {
			fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t\n", p.Point[h], p.Lo[0][h], p.Hi[0][h])
		} else {
			fmt.Fprint(tw, "\t\t\t\n")
		}
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "period\tknown\tforecast\tenergy\t80% lo\t80% hi\t95% lo\t95% hi\tnote\t")
	for _, t := range slices.Concat(o.Quarters, o.Years) {
		note := ""
		if t.Truncated {
			note = "horizon ends inside"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%s\t\n", t.Label, t.Known, t.Forecast, t.Point, t.Lo[0], t.Hi[0], t.Lo[1], t.Hi[1], note)
	}
	tw.Flush()
	fmt.Fprintln(w)
}
