package credit

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
)

// FitConfig says how a rule set is fitted.
type FitConfig struct {
	AsOf Month // features up to it, outcome in the 12 months after
	// Stack adds earlier as-of months (months before AsOf) whose samples
	// are fitted together with AsOf's: more defaults and closings to learn
	// from, and a model that does not depend on one calendar month.
	Stack   []int
	Lambdas []float64 // L2 strengths tried by cross-validation; default 0.1..300
	Folds   int       // cross-validation folds; default 5
	// GradeShares are the shares of fitted customers (not vetoed) given
	// A and B (the rest C), turned into score cut-offs; default 0.60, 0.28.
	GradeShares [2]float64
	Version     string // default "v2026-12.2"
	Source      string // what the data was, for FittedOn
}

// DefaultFitConfig fits as of asOf with the defaults.
func DefaultFitConfig(asOf Month) FitConfig {
	return FitConfig{AsOf: asOf, Stack: []int{6, 12}, Lambdas: []float64{1, 10, 100, 300, 1000, 3000, 10000}, Folds: 5,
		GradeShares: [2]float64{0.60, 0.28}, Version: "v2026-12.2"}
}

// sample is one customer's features and outcome at an as-of month.
type sample struct {
	asOf Month
	c    Customer
	x    []float64 // default model inputs
	xc   []float64 // churn model inputs, business customers only
	out  Outcome
}

// samples are the customers with bills up to asOf, not closed by then and
// with a known outcome; season is the churn inputs' kWh profile.
func samples(cs []Customer, asOf Month, season []float64) []sample {
	var out []sample
	for _, c := range cs {
		x, w, ok := vector(c, asOf)
		if !ok || closedBy(w) {
			continue
		}
		o := OutcomeAfter(c, asOf)
		if !o.Known {
			continue
		}
		s := sample{asOf: asOf, c: c, x: x, out: o}
		if c.Category.Business() {
			s.xc = churnVector(w, season)
		}
		out = append(out, s)
	}
	return out
}

// Fit fits a rule set on cs: the default model with non-negative weights
// on bad-behaviour features and its L2 strength picked by K-fold
// cross-validated AUC, the churn model on business customers the same way
// (no sign constraints), the cut-offs at the configured grade shares of
// the fitted customers, and DefaultVetoes.
func Fit(cs []Customer, cfg FitConfig) (*RuleSet, error) {
	season := fitSeason(cs, cfg.AsOf)
	ss := samples(cs, cfg.AsOf, season)
	for _, back := range cfg.Stack {
		ss = append(ss, samples(cs, cfg.AsOf-Month(back), season)...)
	}
	if len(ss) < 50 {
		return nil, fmt.Errorf("credit: %d customers with an outcome after %v; too few to fit", len(ss), cfg.AsOf)
	}
	rs := &RuleSet{Version: cfg.Version, Features: featureNames(), ChurnFeatures: churnFeatureNames(), ChurnSeason: season,
		Vetoes: DefaultVetoes(), RecordedViolations: DefaultRecordedViolations(), ChurnEvents: DefaultChurnEventRules(), Fit: map[string]float64{}}
	rs.About = "Customer credit grade (客户信用评价): logistic default model with bad-behaviour weights held ≥ 0, cut-offs by grade shares, veto rules; churn model for business customers on its own inputs (lateness and consumption over 36 months)."
	rs.FittedOn = fmt.Sprintf("%s, as of %v stacked with %v months before, %d customer-months", cfg.Source, cfg.AsOf, cfg.Stack, len(ss))
	nonNeg := make([]bool, len(features))
	for j, f := range features {
		nonNeg[j] = f.Bad
	}
	var x, xb [][]float64
	var def, churn []bool
	var fold, foldB []int
	for _, s := range ss {
		h := fnv.New32a()
		h.Write([]byte(s.c.ID))
		k := int(h.Sum32() % uint32(cfg.Folds))
		x = append(x, s.x)
		def = append(def, s.out.Default)
		fold = append(fold, k)
		if s.c.Category.Business() {
			xb = append(xb, s.xc)
			churn = append(churn, s.out.Churn)
			foldB = append(foldB, k)
		}
	}
	var cvAUC float64
	rs.Default, cvAUC = fitCV(x, def, fold, nonNeg, cfg)
	rs.Fit["default_cv_auc"] = cvAUC
	rs.Fit["default_lambda"] = rs.Default.Lambda
	rs.Fit["default_train_auc"] = AUC(etas(rs.Default, x), def)
	if len(xb) >= 50 && rate(churn) > 0 && rate(churn) < 1 {
		rs.Churn, cvAUC = fitCV(xb, churn, foldB, make([]bool, len(churnFeatures)), cfg)
		rs.Fit["churn_cv_auc"] = cvAUC
		rs.Fit["churn_lambda"] = rs.Churn.Lambda
		rs.Fit["churn_train_auc"] = AUC(etas(rs.Churn, xb), churn)
	} else {
		// Too few business customers or closings to fit: the observed
		// rate for everyone, flagged.
		rs.Churn = constantLogit(len(churnFeatures), rate(churn), len(xb))
		rs.Fit["churn_constant"] = 1
	}
	rs.Fit["churn_rate"] = rate(churn)
	// Cut-offs: by score quantiles of the customers no veto forces to C,
	// at the main as-of month.
	rs.Cutoffs.A, rs.Cutoffs.B = 900, 899
	var scores []int
	for _, s := range ss {
		if s.asOf != cfg.AsOf {
			continue
		}
		r, _ := rs.Grade(s.c, s.asOf)
		if !slices.ContainsFunc(r.Reasons, func(s string) bool { return len(s) > 5 && s[:5] == "veto:" }) {
			scores = append(scores, scoreOf(rs.Default.eta(s.x)))
		}
	}
	slices.Sort(scores)
	slices.Reverse(scores)
	at := func(share float64) int { return scores[min(len(scores)-1, int(share*float64(len(scores))))] }
	rs.Cutoffs.A = at(cfg.GradeShares[0])
	rs.Cutoffs.B = min(at(cfg.GradeShares[0]+cfg.GradeShares[1]), rs.Cutoffs.A-1)
	return rs, rs.Validate()
}

func etas(m logit, x [][]float64) []float64 {
	out := make([]float64, len(x))
	for i := range x {
		out[i] = m.eta(x[i])
	}
	return out
}

// fitCV picks λ by K-fold cross-validated AUC (fold[i] is row i's fold, by
// customer, so that a customer's stacked months stay in one fold) and
// refits on everything.
func fitCV(x [][]float64, y []bool, fold []int, nonNeg []bool, cfg FitConfig) (logit, float64) {
	best, bestAUC := cfg.Lambdas[0], math.Inf(-1)
	for _, l := range cfg.Lambdas {
		var risk []float64
		var lab []bool
		for k := range cfg.Folds {
			var tx, vx [][]float64
			var ty, vy []bool
			for i := range x {
				if fold[i] == k {
					vx, vy = append(vx, x[i]), append(vy, y[i])
				} else {
					tx, ty = append(tx, x[i]), append(ty, y[i])
				}
			}
			m := fitLogit(tx, ty, nonNeg, l)
			risk = append(risk, etas(m, vx)...)
			lab = append(lab, vy...)
		}
		if a := AUC(risk, lab); a > bestAUC {
			best, bestAUC = l, a
		}
	}
	return fitLogit(x, y, nonNeg, best), bestAUC
}

// Split puts each customer in the fit or the judge part by a hash of seed
// and id: deterministic, independent of row order; holdout is the judge
// share.
func Split(cs []Customer, holdout float64, seed int64) (fit, judge []Customer) {
	for _, c := range cs {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s", seed, c.ID)
		if float64(h.Sum64()%1_000_000)/1_000_000 < holdout {
			judge = append(judge, c)
		} else {
			fit = append(fit, c)
		}
	}
	return fit, judge
}

// Report is the evaluation of a rule set on customers it was not fitted on.
type Report struct {
	AsOf                 Month
	Customers            int     // judged (bills up to as-of, open, outcome known)
	DefaultRate          float64 // overall
	TrainAUC, HoldoutAUC float64 // default, of the score
	CVAUC                float64
	Lambda               float64
	ByGrade              map[string]GradeStats
	Vetoed               int
	Business             int
	ChurnRate            float64
	ChurnAUC, ChurnTrain float64
	ChurnMeanRisk        float64 // mean predicted churn risk of the judged business customers (against ChurnRate)
	PSIFrom              Month
	PSI                  float64 // score of the judged customers at PSIFrom against AsOf
}

// GradeStats counts one grade.
type GradeStats struct {
	N, Defaults int
}

// Rate is the default rate.
func (g GradeStats) Rate() float64 { return float64(g.Defaults) / float64(max(1, g.N)) }

// Evaluate judges rs on cs as of asOf (outcome the 12 months after) and
// compares the score distribution at psiFrom with the one at asOf.
func Evaluate(rs *RuleSet, cs []Customer, asOf, psiFrom Month) Report {
	rep := Report{AsOf: asOf, PSIFrom: psiFrom, ByGrade: map[string]GradeStats{},
		TrainAUC: rs.Fit["default_train_auc"], CVAUC: rs.Fit["default_cv_auc"], Lambda: rs.Default.Lambda, ChurnTrain: rs.Fit["churn_train_auc"]}
	var risk, crisk []float64
	var def, churn []bool
	var now, before []float64
	for _, s := range samples(cs, asOf, rs.ChurnSeason) {
		r, _ := rs.Grade(s.c, asOf)
		risk = append(risk, -float64(r.Score))
		def = append(def, s.out.Default)
		g := rep.ByGrade[r.Grade]
		g.N++
		if s.out.Default {
			g.Defaults++
		}
		rep.ByGrade[r.Grade] = g
		if len(r.Reasons) > 0 && len(r.Reasons[0]) > 5 && r.Reasons[0][:5] == "veto:" {
			rep.Vetoed++
		}
		if s.c.Category.Business() {
			crisk = append(crisk, r.ChurnRisk)
			churn = append(churn, s.out.Churn)
		}
		now = append(now, float64(r.Score))
		if rb, ok := rs.Grade(s.c, psiFrom); ok && !rb.Closed {
			before = append(before, float64(rb.Score))
		}
	}
	rep.Customers = len(def)
	rep.DefaultRate = rate(def)
	rep.HoldoutAUC = AUC(risk, def)
	rep.Business = len(churn)
	rep.ChurnRate = rate(churn)
	rep.ChurnAUC = AUC(crisk, churn)
	for _, p := range crisk {
		rep.ChurnMeanRisk += p / float64(len(crisk))
	}
	if len(before) > 0 && len(now) > 0 {
		rep.PSI = PSI(before, now)
	}
	return rep
}

func rate(v []bool) float64 {
	n := 0
	for _, b := range v {
		if b {
			n++
		}
	}
	return float64(n) / float64(max(1, len(v)))
}
