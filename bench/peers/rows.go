package main

import "fmt"

// benchRegion is the gridcrm region the benchmark region is (a county: 东海县).
const benchRegion = "320722"

// row is customer i of a run: the ~300-byte JSON that gridcrm's own API
// benchmark sends (internal/load.Customer, a copy: that package is internal
// to gridcrm's module), with an account number (户号) unique per run. etcd
// gets the same bytes as the value under key.
func row(tag string, i int) (key string, value []byte) {
	acct := fmt.Sprintf("%s%08d", tag, i)
	value = fmt.Appendf(nil, `{"account_no":"%s","name":"连云港市东海县恒通纺织机械有限公司%d号厂区","category":"industrial","voltage_kv":10,"capacity_kva":630,"industry":"纺织","address":"江苏省连云港市东海县牛山街道和平东路%d号","region":"%s","grid":"网格%02d","tags":["VIP"]}`,
		acct, i%97, i%500, benchRegion, i%12)
	return "/customers/" + benchRegion + "/" + acct, value
}
