package sample

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gridcrm/crm"
)

// categoryWeights is the mix of customer categories, in per mille.
var categoryWeights = []struct {
	cat string
	w   int
}{
	{crm.CategoryResidential, 800}, {crm.CategoryCommercial, 100}, {crm.CategoryIndustrial, 50},
	{crm.CategoryAgricultural, 30}, {crm.CategoryPublic, 20},
}

// Where a customer's address is.
const (
	addrHome = iota
	addrStreet
	addrIndustrial
	addrVillage
)

// industry is one line of business (行业) with the heavy tail of its annual
// consumption: annual kWh is Pareto(xm, alpha), capped at max.
type industry struct {
	cat       string
	name      string // the Customer.Industry value
	w         int    // weight within the category
	xm, alpha float64
	max       float64
	names     []string // name templates, see expand
	big       []string // name templates for large customers (capacity >= 2000 kVA)
	addr      int
	tag       string // tag every customer of the industry carries, if any
}

var industries = []industry{
	{cat: crm.CategoryResidential, name: "居民生活", w: 1, addr: addrHome},

	{cat: crm.CategoryCommercial, name: "零售", w: 35, xm: 3000, alpha: 1.4, max: 3e6, addr: addrStreet,
		names: []string{"{T}超市", "{W}{T}超市", "{T}便利店", "{T}百货商店", "{T}五金店"}, big: []string{"{C}{T}购物中心", "{C}{T}商贸广场"}},
	{cat: crm.CategoryCommercial, name: "餐饮", w: 20, xm: 4000, alpha: 1.5, max: 1e6, addr: addrStreet,
		names: []string{"{T}饭店", "{W}{T}酒楼", "{T}餐饮管理有限公司", "{T}小吃店"}},
	{cat: crm.CategoryCommercial, name: "住宿", w: 8, xm: 10000, alpha: 1.4, max: 5e6, addr: addrStreet,
		names: []string{"{C}{T}大酒店", "{T}宾馆", "{W}{T}旅社"}},
	{cat: crm.CategoryCommercial, name: "批发", w: 12, xm: 3000, alpha: 1.5, max: 1e6, addr: addrStreet,
		names: []string{"{C}{T}商贸有限公司", "{C}{T}农资有限公司", "{C}{T}物流有限公司"}},
	{cat: crm.CategoryCommercial, name: "加油站", w: 6, xm: 12000, alpha: 2.5, max: 3e5, addr: addrStreet,
		names: []string{"中国石化{W}加油站", "中国石油{W}加油站", "{C}{T}加油站"}},
	{cat: crm.CategoryCommercial, name: "通信", w: 12, xm: 10000, alpha: 3, max: 2e5, addr: addrVillage,
		names: []string{"中国铁塔{W}{V}基站", "中国移动{W}{V}基站"}},
	{cat: crm.CategoryCommercial, name: "金融", w: 7, xm: 10000, alpha: 2.5, max: 5e5, addr: addrStreet,
		names: []string{"中国农业银行{C}{W}支行", "{C}农村商业银行{W}支行", "中国邮政储蓄银行{C}{W}营业所"}},

	{cat: crm.CategoryIndustrial, name: "纺织", w: 15, xm: 34000, alpha: 1.35, max: 2e7, addr: addrIndustrial,
		names: []string{"{C}{T}纺织有限公司", "{C}{T}织造有限公司", "{C}{T}服饰有限公司"}, big: []string{"{P}{T}纺织股份有限公司"}},
	{cat: crm.CategoryIndustrial, name: "化工", w: 12, xm: 51000, alpha: 1.3, max: 2e7, addr: addrIndustrial,
		names: []string{"{C}{T}化工有限公司", "{C}{T}精细化工有限公司"}, big: []string{"{P}{T}化学有限公司", "{P}{T}化工股份有限公司"}},
	{cat: crm.CategoryIndustrial, name: "机械制造", w: 15, xm: 29000, alpha: 1.35, max: 2e7, addr: addrIndustrial,
		names: []string{"{C}{T}机械制造有限公司", "{C}{T}机械有限公司", "{C}{T}重工机械有限公司"}, big: []string{"{P}{T}重工股份有限公司"}},
	{cat: crm.CategoryIndustrial, name: "食品加工", w: 12, xm: 25000, alpha: 1.4, max: 2e7, addr: addrIndustrial,
		names: []string{"{C}{T}食品有限公司", "{C}{T}粮油加工厂", "{C}{T}水产食品有限公司"}, big: []string{"{P}{T}食品集团有限公司"}},
	{cat: crm.CategoryIndustrial, name: "建材", w: 12, xm: 38000, alpha: 1.3, max: 2e7, addr: addrIndustrial,
		names: []string{"{C}{T}建材有限公司", "{C}{T}水泥制品厂", "{C}{T}新型墙材有限公司"}, big: []string{"{P}{T}水泥有限公司"}},
	{cat: crm.CategoryIndustrial, name: "木材加工", w: 10, xm: 21000, alpha: 1.5, max: 1e7, addr: addrIndustrial,
		names: []string{"{C}{T}木业有限公司", "{C}{T}板材厂"}},
	{cat: crm.CategoryIndustrial, name: "电子", w: 8, xm: 34000, alpha: 1.35, max: 2e7, addr: addrIndustrial,
		names: []string{"{C}{T}电子科技有限公司", "{C}{T}光电有限公司"}, big: []string{"{P}{T}电子股份有限公司"}},
	{cat: crm.CategoryIndustrial, name: "医药", w: 6, xm: 42000, alpha: 1.3, max: 2e7, addr: addrIndustrial,
		names: []string{"{C}{T}药业有限公司", "{C}{T}生物科技有限公司"}, big: []string{"{P}{T}制药有限公司"}},
	{cat: crm.CategoryIndustrial, name: "金属制品", w: 8, xm: 34000, alpha: 1.3, max: 2e7, addr: addrIndustrial,
		names: []string{"{C}{T}金属制品有限公司", "{C}{T}钢结构有限公司"}, big: []string{"{P}{T}特钢有限公司"}},
	{cat: crm.CategoryIndustrial, name: "塑料制品", w: 8, xm: 21000, alpha: 1.5, max: 1e7, addr: addrIndustrial,
		names: []string{"{C}{T}塑业有限公司", "{C}{T}包装材料有限公司"}},

	{cat: crm.CategoryAgricultural, name: "农业灌溉", w: 40, xm: 1500, alpha: 1.6, max: 2e6, addr: addrVillage,
		names: []string{"{V}农业合作社", "{W}{V}排灌站", "{W}水利站", "{V}灌溉泵站"}},
	{cat: crm.CategoryAgricultural, name: "水产养殖", w: 25, xm: 3000, alpha: 1.5, max: 2e6, addr: addrVillage,
		names: []string{"{T}水产养殖场", "{V}水产养殖专业合作社"}},
	{cat: crm.CategoryAgricultural, name: "畜禽养殖", w: 20, xm: 4000, alpha: 1.5, max: 3e6, addr: addrVillage,
		names: []string{"{T}养殖场", "{C}{T}牧业有限公司", "{V}生猪养殖场"}},
	{cat: crm.CategoryAgricultural, name: "设施农业", w: 15, xm: 2500, alpha: 1.6, max: 1e6, addr: addrVillage,
		names: []string{"{V}蔬菜种植专业合作社", "{T}家庭农场"}},

	{cat: crm.CategoryPublic, name: "政府机关", w: 35, xm: 5000, alpha: 1.5, max: 5e6, addr: addrStreet,
		names: []string{"{W}人民政府", "{W}{V}村民委员会", "{C}公安局{W}派出所", "{W}便民服务中心"}},
	{cat: crm.CategoryPublic, name: "教育", w: 30, xm: 6000, alpha: 1.6, max: 3e6, addr: addrStreet,
		names: []string{"{W}中心小学", "{W}初级中学", "{W}中心幼儿园"}, big: []string{"{C}第{N}中学", "{C}高级中学"}},
	{cat: crm.CategoryPublic, name: "医疗卫生", w: 20, xm: 10000, alpha: 1.4, max: 2e7, addr: addrStreet, tag: "保供民生",
		names: []string{"{W}卫生院", "{W}社区卫生服务中心"}, big: []string{"{C}人民医院", "{C}中医院"}},
	{cat: crm.CategoryPublic, name: "供水", w: 15, xm: 20000, alpha: 1.5, max: 2e7, addr: addrIndustrial, tag: "保供民生",
		names: []string{"{W}水厂", "{W}供水站"}, big: []string{"{C}自来水有限公司", "{C}污水处理厂"}},
}

// byCategory indexes industries by category, with the total weight.
var byCategory = func() map[string][]*industry {
	m := map[string][]*industry{}
	for i := range industries {
		m[industries[i].cat] = append(m[industries[i].cat], &industries[i])
	}
	return m
}()

// Standard sizes: low-voltage contracts and distribution transformers (kVA).
var (
	residentialSizes = []float64{4, 6, 8, 10, 12, 16, 20}
	lowSizes         = []float64{10, 15, 20, 30, 40, 50, 63, 80, 100, 125, 160, 200}
	highSizes        = []float64{250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000,
		6300, 8000, 10000, 12500, 16000, 20000, 25000, 31500, 40000, 50000}
)

// sizeFor is the smallest standard size of at least kva (the largest if none).
func sizeFor(kva float64, sizes []float64) float64 {
	for _, s := range sizes {
		if s >= kva {
			return s
		}
	}
	return sizes[len(sizes)-1]
}

// profile is a customer and the hidden traits that drive its bills.
type profile struct {
	c      crm.Customer
	ind    *industry
	annual float64 // annual kWh at the End month's level
	vacant bool    // a household whose family works away (在外务工): home at Spring Festival
	growth float64 // yearly growth of consumption
	t      Traits  // credit, churn and the anomalies injected (hidden.go)
	payDay int     // usual day of payment in the month after the period
	peak   float64 // share of kWh in the peak period
	flat   float64 // share in the flat period; the valley takes the rest

	loc           *location // where the customer sits
	town, village string
	tpls          []string // name templates of a non-residential customer

	// reducedFrom is the contracted capacity before a reduction (减容), if
	// the customer made one (hidden.go).
	reducedFrom float64
}

// Customer returns one random customer for region (for load generators),
// account_no unique for distinct n. Region is set; Meta, Grid balancing and
// bills are left to the caller. n >= 0; the account number is the region
// code and n in at least seven digits (3207230000123).
func Customer(rng *rand.Rand, region string, n int) crm.Customer {
	return newProfile(rng, lookupPlace(region, ""), n).c
}

func accountNo(region string, n int) string { return fmt.Sprintf("%s%07d", region, n) }

func pareto(rng *rand.Rand, xm, alpha float64) float64 {
	return xm / math.Pow(1-rng.Float64(), 1/alpha)
}

func newProfile(rng *rand.Rand, p *place, n int) profile {
	cat := crm.CategoryResidential
	k := rng.IntN(1000)
	for _, cw := range categoryWeights {
		if k < cw.w {
			cat = cw.cat
			break
		}
		k -= cw.w
	}
	inds := byCategory[cat]
	total := 0
	for _, in := range inds {
		total += in.w
	}
	ind := inds[0]
	k = rng.IntN(total)
	for _, in := range inds {
		if k < in.w {
			ind = in
			break
		}
		k -= in.w
	}
	loc := &p.locs[rng.IntN(len(p.locs))]
	town, village := pick(rng, loc.towns), pick(rng, villages)
	pr := profile{ind: ind, loc: loc, town: town, village: village, growth: 0.03 + 0.04*rng.NormFloat64(), payDay: 3 + rng.IntN(20)}
	c := &pr.c
	c.AccountNo = accountNo(p.region, n)
	c.Category, c.Industry, c.Region, c.Status = cat, ind.name, p.region, crm.StatusActive
	c.Grid = gridName(rng.IntN(p.grids))

	keyProject := false // 政府重点工程
	switch cat {
	case crm.CategoryIndustrial:
		keyProject = rng.IntN(100) < 12
	case crm.CategoryPublic:
		keyProject = rng.IntN(100) < 8
	}

	// Consumption first; capacity and voltage follow from it.
	switch cat {
	case crm.CategoryResidential:
		if rng.IntN(100) < 6 {
			pr.vacant = true
			pr.annual = 150 + 550*rng.Float64()
		} else {
			pr.annual = math.Min(math.Max(2300*math.Exp(0.5*rng.NormFloat64()), 400), 20000)
		}
	default:
		pr.annual = math.Min(pareto(rng, ind.xm, ind.alpha), ind.max)
	}
	switch cat {
	case crm.CategoryResidential:
		c.CapacityKVA = sizeFor(pr.annual/(400+300*rng.Float64()), residentialSizes)
		c.VoltageKV = 0.22
		if c.CapacityKVA > 10 || rng.IntN(10) == 0 {
			c.VoltageKV = 0.38 // three-phase
		}
	case crm.CategoryIndustrial:
		// 大工业: at least 315 kVA, on 10 kV up to 6300 kVA, 35 kV up to 31500, else 110 kV.
		// A government key project is a plant still ramping up after
		// energisation: it contracted capacity (log-uniform 630-50000
		// kVA) for the plant it will become and grows fast.
		kva := pr.annual / (1500 + 3500*rng.Float64())
		if keyProject {
			kva = math.Max(kva, 630*math.Pow(50000.0/630, rng.Float64()))
			pr.growth = 0.3 + 0.7*rng.Float64()
		}
		c.CapacityKVA = sizeFor(math.Max(315, kva), highSizes)
		switch {
		case c.CapacityKVA >= 40000:
			c.VoltageKV = 110
		case c.CapacityKVA >= 8000:
			c.VoltageKV = 35
		default:
			c.VoltageKV = 10
		}
		pr.annual = math.Min(pr.annual, c.CapacityKVA*6000)
	default:
		hours := 1000.0 // public: offices, schools, clinics
		switch cat {
		case crm.CategoryCommercial:
			hours = 1200
		case crm.CategoryAgricultural:
			hours = 600 // pumps run a few months a year
		}
		kva := pr.annual / (hours * (0.7 + 0.8*rng.Float64()))
		if kva < 200 {
			c.CapacityKVA, c.VoltageKV = sizeFor(math.Max(kva, 10), lowSizes), 0.4
		} else {
			c.CapacityKVA, c.VoltageKV = sizeFor(kva, highSizes), 10
		}
	}

	// Name, address, phone.
	switch cat {
	case crm.CategoryResidential:
		c.Name = personName(rng)
		if rng.IntN(100) < 85 {
			c.Phone = mobile(rng)
		}
	default:
		tpls := ind.names
		if len(ind.big) > 0 && c.CapacityKVA >= 2000 {
			tpls = ind.big
		}
		pr.tpls = tpls
		c.Name = expand(rng, pick(rng, tpls), loc, town, village)
		c.Phone = landline(rng, loc.areaCode)
	}
	switch ind.addr {
	case addrHome:
		c.Address = loc.homeAddress(rng, town)
	case addrStreet:
		c.Address = loc.streetAddress(rng, town)
	case addrIndustrial:
		c.Address = loc.industrialAddress(rng, town)
	case addrVillage:
		c.Address = loc.villageAddress(rng, town, village)
	}

	// Tags (政府重点工程, VIP, 保供民生).
	if ind.tag != "" {
		c.Tags = append(c.Tags, ind.tag)
	}
	if keyProject {
		c.Tags = append(c.Tags, "政府重点工程")
	}
	// Big customers: 35 kV and above, or more than about 1 GWh a year.
	if (cat == crm.CategoryIndustrial && (c.VoltageKV >= 35 || pr.annual >= 1e6)) ||
		(cat == crm.CategoryCommercial && pr.annual >= 5e5) {
		c.Tags = append(c.Tags, "VIP")
	}

	// Hidden traits: credit, direct debit and churn (hidden.go); then the
	// time-of-use shares.
	pr.hidden(rng)
	j := 0.05 * rng.NormFloat64()
	switch cat {
	case crm.CategoryResidential: // two periods: 8:00-21:00 peak, 21:00-8:00 valley
		pr.peak, pr.flat = 0.62+j, 0
	case crm.CategoryIndustrial: // three shifts run into the valley
		pr.peak, pr.flat = 0.34+j, 0.33
	case crm.CategoryAgricultural: // pumps run at night
		pr.peak, pr.flat = 0.25+j, 0.30
	default: // daytime business
		pr.peak, pr.flat = 0.45+j, 0.35
	}
	return pr
}
