package forecast

import (
	"errors"
	"math"
)

// errSingular is answered by olsFit when the normal equations have no
// unique solution even after the ridge.
var errSingular = errors.New("forecast: regression design is singular")

// olsFit solves min ‖y − Xβ‖² + ridge·‖β[1:]‖² (the intercept, column 0,
// is not shrunk) by the normal equations and a Cholesky factorisation.
// X is row-major with p columns. A tiny ridge keeps rank-deficient designs
// (a month dummy with no observation) solvable.
func olsFit(x [][]float64, y []float64, ridge float64) ([]float64, error) {
	p := len(x[0])
	a := make([][]float64, p)
	for i := range a {
		a[i] = make([]float64, p)
	}
	b := make([]float64, p)
	for r, row := range x {
		for i := range p {
			b[i] += row[i] * y[r]
			for j := 0; j <= i; j++ {
				a[i][j] += row[i] * row[j]
			}
		}
	}
	for i := range p {
		for j := 0; j < i; j++ {
			a[j][i] = a[i][j]
		}
		if i > 0 {
			a[i][i] += ridge
		}
	}
	l, err := cholesky(a)
	if err != nil {
		return nil, err
	}
	// Solve L z = b, then Lᵀ β = z.
	z := make([]float64, p)
	for i := range p {
		s := b[i]
		for k := 0; k < i; k++ {
			s -= l[i][k] * z[k]
		}
		z[i] = s / l[i][i]
	}
	beta := make([]float64, p)
	for i := p - 1; i >= 0; i-- {
		s := z[i]
		for k := i + 1; k < p; k++ {
			s -= l[k][i] * beta[k]
		}
		beta[i] = s / l[i][i]
	}
	return beta, nil
}

func cholesky(a [][]float64) ([][]float64, error) {
	p := len(a)
	l := make([][]float64, p)
	for i := range l {
		l[i] = make([]float64, p)
	}
	for i := range p {
		for j := 0; j <= i; j++ {
			s := a[i][j]
			for k := 0; k < j; k++ {
				s -= l[i][k] * l[j][k]
			}
			if i == j {
				if s <= 1e-12*math.Max(1, a[i][i]) {
					return nil, errSingular
				}
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	return l, nil
}
