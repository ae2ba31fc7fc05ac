package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"gridcrm/analytics/credit"
)

func creditCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "credit",
		Short: "Customer credit grades and churn warnings (客户信用评价, 流失预警)",
	}
	c.AddCommand(creditGradeCmd(), creditEvaluateCmd(), creditFitCmd())
	return c
}

func readCredit(path string) ([]credit.Customer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cs, err := credit.ReadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cs, nil
}

// asOfFlag parses --as-of, or answers the last month of the file.
func asOfFlag(s string, cs []credit.Customer) (credit.Month, error) {
	if s == "" {
		return credit.LastMonth(cs), nil
	}
	return credit.ParseMonth(s)
}

func creditGradeCmd() *cobra.Command {
	var path, asOf string
	var includeClosed bool
	c := &cobra.Command{
		Use:   "grade",
		Short: "Grade every customer as of a month with the shipped rule set (rules v2026-12.2)",
		Long: `Read a credit history CSV (plain or gzipped; columns customer_id, category,
direct_debit, tenure_months, month, kwh, billed_yuan, days_late,
unpaid_at_next_bill, violation, theft, closed), use only the months up to
--as-of (default: the last month in the file), and write CSV to stdout:
customer_id,score,grade,churn_risk,reasons. score is 300..900, higher is
better; grade is A, B or C; churn_risk (0..1) is for general_commercial and
large_industrial customers, empty for residential; reasons are ';'-separated
codes, veto rules first (veto:theft_24m, veto:arrears_3m), then the factors
that lowered the score most, then those that raised it most, each with a
'+' (+late_12m: fewer late months than the average customer; +direct_debit,
+long_tenure); a vetoed grade lists no '+' factor.
Customers with no rows up to --as-of are skipped; so are accounts closed at
or before it, unless --include-closed. The rule set is built into the
binary: no training file is needed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rs, err := credit.Shipped()
			if err != nil {
				return err
			}
			cs, err := readCredit(path)
			if err != nil {
				return err
			}
			m, err := asOfFlag(asOf, cs)
			if err != nil {
				return err
			}
			w := csv.NewWriter(cmd.OutOrStdout())
			w.Write([]string{"customer_id", "score", "grade", "churn_risk", "reasons"})
			for _, c := range cs {
				r, ok := rs.Grade(c, m)
				if !ok || (r.Closed && !includeClosed) {
					continue
				}
				churn := ""
				if !math.IsNaN(r.ChurnRisk) {
					churn = strconv.FormatFloat(r.ChurnRisk, 'f', 4, 64)
				}
				w.Write([]string{r.ID, strconv.Itoa(r.Score), r.Grade, churn, strings.Join(slices.Concat(r.Reasons, r.Strengths), ";")})
			}
			w.Flush()
			return w.Error()
		},
	}
	c.Flags().StringVar(&path, "csv", "", "credit history CSV, plain or .gz")
	c.Flags().StringVar(&asOf, "as-of", "", "grade on months up to YYYY-MM (default: the last month in the file)")
	c.Flags().BoolVar(&includeClosed, "include-closed", false, "also grade accounts closed at or before --as-of")
	c.MarkFlagRequired("csv")
	return c
}

func creditEvaluateCmd() *cobra.Command {
	var path, asOf, psiFrom, tariff string
	var holdout float64
	var seed int64
	c := &cobra.Command{
		Use:   "evaluate",
		Short: "Fit on some customers, judge on the others: AUC, default rate per grade, churn AUC, PSI",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := readCredit(path)
			if err != nil {
				return err
			}
			m, err := credit.ParseMonth(asOf)
			if err != nil {
				return err
			}
			from, err := credit.ParseMonth(psiFrom)
			if err != nil {
				return err
			}
			fitPart, judge := credit.Split(cs, holdout, seed)
			if tariff != "" {
				tc, err := credit.ParseTariffChange(tariff)
				if err != nil {
					return err
				}
				judge = tc.Apply(judge)
				fmt.Fprintf(cmd.OutOrStdout(), "tariff change: the judged customers' bills from %v priced ×%g (the fit's as in the file)\n", tc.From, tc.Factor)
			}
			cfg := credit.DefaultFitConfig(m)
			cfg.Source = path
			rs, err := credit.Fit(fitPart, cfg)
			if err != nil {
				return err
			}
			renderCreditReport(cmd.OutOrStdout(), rs, credit.Evaluate(rs, judge, m, from), len(fitPart), len(judge))
			return nil
		},
	}
	c.Flags().StringVar(&path, "csv", "", "credit history CSV, plain or .gz")
	c.Flags().StringVar(&asOf, "as-of", "2024-12", "grade on months up to YYYY-MM; the outcome is the 12 months after")
	c.Flags().StringVar(&psiFrom, "psi-from", "2024-06", "PSI compares the judged customers' scores at this month with --as-of")
	c.Flags().Float64Var(&holdout, "holdout", 0.5, "share of customers kept out of the fit and judged")
	c.Flags().Int64Var(&seed, "seed", 1, "seed of the customer split")
	c.Flags().StringVar(&tariff, "tariff-change", "", "YYYY-MM:FACTOR: price the judged customers' bills from that month ×FACTOR (a tariff change; their behaviour unchanged) to check that scores do not move with prices")
	c.MarkFlagRequired("csv")
	return c
}

func creditFitCmd() *cobra.Command {
	var path, asOf, out string
	c := &cobra.Command{
		Use:   "fit",
		Short: "Fit the rule set on a training file and write it as JSON (how rules_v2026-12.2.json is made)",
		Long: `Fit the default and churn models on every customer of --csv as of --as-of
(outcome: the 12 months after), pick the L2 strength by 5-fold
cross-validation, set the grade cut-offs, and write the versioned rule set.
analytics/credit embeds the file it writes: run 'go generate
./analytics/credit' (or this command) and commit the JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := readCredit(path)
			if err != nil {
				return err
			}
			m, err := credit.ParseMonth(asOf)
			if err != nil {
				return err
			}
			cfg := credit.DefaultFitConfig(m)
			cfg.Source = "credit_train.csv.gz"
			rs, err := credit.Fit(cs, cfg)
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(rs, "", " ")
			if err != nil {
				return err
			}
			b = append(b, '\n')
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return os.WriteFile(out, b, 0o644)
		},
	}
	c.Flags().StringVar(&path, "csv", "", "training CSV, plain or .gz")
	c.Flags().StringVar(&asOf, "as-of", "2024-12", "fit on months up to YYYY-MM, outcome the 12 months after")
	c.Flags().StringVar(&out, "out", "-", "file to write the rule set to (- = stdout)")
	c.MarkFlagRequired("csv")
	return c
}

func renderCreditReport(w io.Writer, rs *credit.RuleSet, r credit.Report, nFit, nJudge int) {
	fmt.Fprintf(w, "rule set %s fitted on %d customers, judged on %d (as of %v, outcome the 12 months after)\n", rs.Version, nFit, nJudge, r.AsOf)
	fmt.Fprintf(w, "default: %d customers judged, rate %.2f%%; L2 lambda %g (5-fold CV AUC %.4f)\n", r.Customers, 100*r.DefaultRate, r.Lambda, r.CVAUC)
	fmt.Fprintf(w, "default AUC of the score: train %.4f  holdout %.4f\n", r.TrainAUC, r.HoldoutAUC)
	fmt.Fprintf(w, "grade  cut-off  customers  share   defaults  default rate\n")
	for _, g := range []string{credit.GradeA, credit.GradeB, credit.GradeC} {
		s := r.ByGrade[g]
		cut := "-"
		switch g {
		case credit.GradeA:
			cut = fmt.Sprintf(">=%d", rs.Cutoffs.A)
		case credit.GradeB:
			cut = fmt.Sprintf(">=%d", rs.Cutoffs.B)
		}
		fmt.Fprintf(w, "%-5s  %-7s  %9d  %5.1f%%  %8d  %11.2f%%\n", g, cut, s.N, 100*float64(s.N)/float64(max(1, r.Customers)), s.Defaults, 100*s.Rate())
	}
	a, c := r.ByGrade[credit.GradeA].Rate(), r.ByGrade[credit.GradeC].Rate()
	fmt.Fprintf(w, "C/A default-rate ratio: %.1f; vetoed to C: %d\n", c/math.Max(a, 1e-9), r.Vetoed)
	fmt.Fprintf(w, "churn (business customers, closed within 12 months): %d customers, rate %.2f%%, AUC train %.4f  holdout %.4f\n", r.Business, 100*r.ChurnRate, r.ChurnTrain, r.ChurnAUC)
	fmt.Fprintf(w, "churn model: L2 lambda %g (5-fold CV AUC %.4f); mean predicted risk %.2f%% against the observed rate\n", rs.Churn.Lambda, rs.Fit["churn_cv_auc"], 100*r.ChurnMeanRisk)
	fmt.Fprintf(w, "PSI of the score, %v against %v: %.4f\n", r.PSIFrom, r.AsOf, r.PSI)
}
