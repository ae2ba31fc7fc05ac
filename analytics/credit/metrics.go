package credit

import (
	"math"
	"slices"
)

// AUC is the probability that a random positive ranks above a random
// negative by risk (ties count half): the Mann-Whitney statistic. NaN
// without both classes.
func AUC(risk []float64, positive []bool) float64 {
	idx := make([]int, len(risk))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case risk[a] < risk[b]:
			return -1
		case risk[a] > risk[b]:
			return 1
		}
		return 0
	})
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && risk[idx[j]] == risk[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if positive[idx[k]] {
				rankSum += avg
				pos++
			}
		}
		i = j
	}
	neg := float64(len(risk)) - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// PSI is the population stability index of actual against expected, on
// the deciles of expected: Σ (a−e)·ln(a/e), with empty bins floored at
// 0.0001. Below 0.10 is usually read as stable.
func PSI(expected, actual []float64) float64 {
	s := slices.Clone(expected)
	slices.Sort(s)
	var cuts []float64
	for k := 1; k < 10; k++ {
		c := s[k*len(s)/10]
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	bin := func(v float64) int {
		i, _ := slices.BinarySearch(cuts, v)
		if i < len(cuts) && cuts[i] == v {
			i++
		}
		return i
	}
	e := make([]float64, len(cuts)+1)
	a := make([]float64, len(cuts)+1)
	for _, v := range expected {
		e[bin(v)]++
	}
	for _, v := range actual {
		a[bin(v)]++
	}
	psi := 0.0
	for i := range e {
		pe := math.Max(e[i]/float64(len(expected)), 1e-4)
		pa := math.Max(a[i]/float64(len(actual)), 1e-4)
		psi += (pa - pe) * math.Log(pa/pe)
	}
	return psi
}
