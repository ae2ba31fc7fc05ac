package credit

import "math"

// logit is a fitted logistic model on standardised features:
// η = Intercept + Σ Weights[j]·(x[j]−Mean[j])/Scale[j].
type logit struct {
	Intercept float64   `json:"intercept"`
	Mean      []float64 `json:"mean"`
	Scale     []float64 `json:"scale"`
	Weights   []float64 `json:"weights"`
	Lambda    float64   `json:"lambda"` // the L2 strength it was fitted with
}

func (m logit) eta(x []float64) float64 {
	e := m.Intercept
	for j, w := range m.Weights {
		e += w * (x[j] - m.Mean[j]) / m.Scale[j]
	}
	return e
}

func sigmoid(e float64) float64 { return 1 / (1 + math.Exp(-e)) }

// fitLogit fits a penalised logistic regression by cyclic coordinate
// Newton steps: minimise −loglik + λ/2·‖w‖² (the intercept is not
// penalised). Weights with nonNeg[j] are projected onto w ≥ 0 after every
// step, so the constraint holds exactly in the answer. Deterministic.
func fitLogit(x [][]float64, y []bool, nonNeg []bool, lambda float64) logit {
	n, p := len(x), len(x[0])
	m := logit{Mean: make([]float64, p), Scale: make([]float64, p), Weights: make([]float64, p), Lambda: lambda}
	for j := range p {
		s, ss := 0.0, 0.0
		for i := range n {
			s += x[i][j]
			ss += x[i][j] * x[i][j]
		}
		mean := s / float64(n)
		sd := math.Sqrt(math.Max(ss/float64(n)-mean*mean, 0))
		if sd < 1e-9 {
			sd = 1
		}
		m.Mean[j], m.Scale[j] = mean, sd
	}
	z := make([][]float64, n)
	pos := 0.0
	for i := range n {
		z[i] = make([]float64, p)
		for j := range p {
			z[i][j] = (x[i][j] - m.Mean[j]) / m.Scale[j]
		}
		if y[i] {
			pos++
		}
	}
	rate := math.Min(math.Max(pos/float64(n), 1e-6), 1-1e-6)
	m.Intercept = math.Log(rate / (1 - rate))
	eta := make([]float64, n)
	for i := range eta {
		eta[i] = m.Intercept
	}
	for sweep := 0; sweep < 100; sweep++ {
		maxStep := 0.0
		for j := -1; j < p; j++ { // -1: the intercept
			g, h := 0.0, 0.0
			for i := range n {
				pr := sigmoid(eta[i])
				xi := 1.0
				if j >= 0 {
					xi = z[i][j]
				}
				if y[i] {
					g += (pr - 1) * xi
				} else {
					g += pr * xi
				}
				h += pr * (1 - pr) * xi * xi
			}
			var old float64
			if j >= 0 {
				old = m.Weights[j]
				g += lambda * old
				h += lambda
			} else {
				old = m.Intercept
			}
			if h < 1e-12 {
				continue
			}
			nw := old - g/h
			if j >= 0 && nonNeg[j] && nw < 0 {
				nw = 0
			}
			d := nw - old
			if d == 0 {
				continue
			}
			if j >= 0 {
				m.Weights[j] = nw
			} else {
				m.Intercept = nw
			}
			for i := range n {
				if j >= 0 {
					eta[i] += d * z[i][j]
				} else {
					eta[i] += d
				}
			}
			maxStep = math.Max(maxStep, math.Abs(d))
		}
		if maxStep < 1e-6 {
			break
		}
	}
	return m
}

// constantLogit answers rate for everyone: p inputs, all weights 0.
func constantLogit(p int, rate float64, n int) logit {
	m := logit{Mean: make([]float64, p), Scale: make([]float64, p), Weights: make([]float64, p)}
	for j := range m.Scale {
		m.Scale[j] = 1
	}
	r := (rate*float64(n) + 0.5) / (float64(n) + 1) // never 0 or 1
	m.Intercept = math.Log(r / (1 - r))
	return m
}
