package sample

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
)

// province is a GB/T 2260 province with its short name (江苏 for company names).
type province struct{ name, short string }

var provinces = map[string]province{
	"11": {"北京市", "北京"}, "31": {"上海市", "上海"}, "32": {"江苏省", "江苏"},
	"33": {"浙江省", "浙江"}, "34": {"安徽省", "安徽"}, "37": {"山东省", "山东"},
	"41": {"河南省", "河南"}, "44": {"广东省", "广东"},
}

// city is a prefecture-level city with its telephone area code.
type city struct{ name, areaCode string }

var cities = map[string]city{
	"3201": {"南京市", "025"}, "3203": {"徐州市", "0516"}, "3205": {"苏州市", "0512"},
	"3207": {"连云港市", "0518"}, "3208": {"淮安市", "0517"}, "3209": {"盐城市", "0515"},
	"3213": {"宿迁市", "0527"},
}

// county is a county-level unit with some of its towns (镇/乡/街道).
type county struct {
	code, name string
	towns      []string
}

// counties is a small table of real Jiangsu counties and districts, in code order.
var counties = []county{
	{"320382", "邳州市", strings.Fields("运河街道 东湖街道 戴圩街道 议堂镇 八义集镇 土山镇 碾庄镇 港上镇 邹庄镇 占城镇 新河镇 官湖镇 四户镇 宿羊山镇 陈楼镇 邢楼镇 铁富镇 岔河镇 车辐山镇")},
	{"320703", "连云区", strings.Fields("墟沟街道 连云街道 云山街道 板桥街道 连岛街道 宿城街道 高公岛街道 朝阳街道 中云街道 猴嘴街道")},
	{"320706", "海州区", strings.Fields("海州街道 幸福路街道 朐阳街道 洪门街道 宁海街道 浦西街道 新浦街道 路南街道 新东街道 新南街道 锦屏镇 板浦镇 浦南镇")},
	{"320707", "赣榆区", strings.Fields("青口镇 柘汪镇 石桥镇 金山镇 黑林镇 厉庄镇 海头镇 塔山镇 宋庄镇 沙河镇 墩尚镇 城头镇 城西镇 班庄镇 赣马镇")},
	{"320722", "东海县", strings.Fields("牛山街道 石榴街道 白塔埠镇 黄川镇 石梁河镇 青湖镇 温泉镇 双店镇 桃林镇 洪庄镇 安峰镇 房山镇 平明镇 驼峰乡 李埝乡 山左口乡 石湖乡 曲阳乡 张湾乡")},
	{"320723", "灌云县", strings.Fields("伊山镇 侍庄街道 杨集镇 燕尾港镇 同兴镇 四队镇 圩丰镇 龙苴镇 下车镇 图河镇 东王集镇 南岗乡 小伊乡")},
	{"320724", "灌南县", strings.Fields("新安镇 堆沟港镇 田楼镇 北陈集镇 张店镇 三口镇 孟兴庄镇 汤沟镇 百禄镇 新集镇 李集乡")},
	{"320803", "淮安区", strings.Fields("淮城街道 河下街道 车桥镇 苏嘴镇 钦工镇 施河镇 流均镇 博里镇 平桥镇 溪河镇 林集镇 南闸镇 朱桥镇 顺河镇 马甸镇 范集镇")},
	{"320804", "淮阴区", strings.Fields("王营街道 长江路街道 码头镇 渔沟镇 吴城镇 南陈集镇 徐溜镇 五里镇 刘老庄镇 三树镇 高家堰镇 丁集镇 西宋集镇 赵集镇")},
	{"320826", "涟水县", strings.Fields("涟城街道 保滩街道 朱码街道 陈师街道 高沟镇 唐集镇 大东镇 五港镇 梁岔镇 石湖镇 岔庙镇 东胡集镇 南集镇 义兴镇 成集镇 红窑镇 黄营镇")},
	{"320830", "盱眙县", strings.Fields("盱城街道 古桑街道 太和街道 马坝镇 官滩镇 桂五镇 管仲镇 河桥镇 鲍集镇 黄花塘镇 淮河镇 穆店镇 天泉湖镇")},
	{"320921", "响水县", strings.Fields("响水镇 陈家港镇 小尖镇 黄圩镇 大有镇 双港镇 南河镇 运河镇")},
	{"320922", "滨海县", strings.Fields("东坎街道 坎北街道 滨海港镇 五汛镇 蔡桥镇 正红镇 通榆镇 界牌镇 八巨镇 八滩镇 滨淮镇 天场镇 陈涛镇 月塘镇")},
	{"321322", "沭阳县", strings.Fields("沭城街道 章集街道 梦溪街道 十字街道 南湖街道 庙头镇 韩山镇 华冲镇 钱集镇 高墟镇 胡集镇 龙庙镇 悦来镇 新河镇 颜集镇 贤官镇 马厂镇 吴集镇 桑墟镇 刘集镇 塘沟镇 扎下镇 耿圩镇 陇集镇")},
}

// genericTowns stand in for the towns of a county not in the table.
var genericTowns = strings.Fields("城关镇 城东街道 城西街道 城南街道 新华街道 东风镇 红旗镇 和平乡 新民镇 永安镇 太平镇 兴隆镇")

var villages = strings.Fields("东园村 西园村 新庄村 大王庄村 李庄村 张湾村 前进村 红星村 新河村 沿河村 北湖村 南岗村 陈圩村 朱集村 杨庄村 何圩村 孙庄村 周集村 徐湾村 高墩村 刘圩村 新桥村 大兴村 胜利村 团结村 友谊村 三合村 五星村 港东村 河西村 后营村 前营村 马庄村 吴庄村 黄集村 沙河村 柳河村 桃园村 杏花村 金庄村")

var roads = strings.Fields("人民路 解放路 建设路 中山路 振兴路 新华路 朝阳路 和平路 幸福路 迎宾大道 文化路 胜利路 育才路 通港路 滨河路 沿河路 健康路 长江路 淮海路 东方大道")

var industrialRoads = strings.Fields("工业大道 纬一路 纬二路 纬三路 经一路 经二路 经三路 创业路 科技路 开发大道 港城大道 园区路")

var estates = strings.Fields("幸福家园 阳光花园 锦绣华庭 翰林苑 东方明珠小区 金色港湾 御景湾 香榭丽舍 城市花园 书香门第 康居小区 滨河新村")

// location is one county-level unit where a customer sits.
type location struct {
	province  string // 江苏省, or "" if the province is unknown
	provShort string
	city      string // 连云港市, or ""
	county    string // 灌云县, or ""
	towns     []string
	areaCode  string // telephone area code, "0518"
	district  bool   // a city district (区): companies carry the city's name
}

// place is everything the generator knows about a region: the county-level
// units a customer of that region may sit in.
type place struct {
	region string
	locs   []location
	grids  int // number of grid cells (网格)
}

// lookupPlace builds the place of a GB/T 2260 code; name, if set, overrides
// the table's name of the region itself. Unknown codes fall back to generic
// towns under whatever part of the code is known.
func lookupPlace(region, name string) *place {
	p := &place{region: region, grids: gridCount(region)}
	prov := provinces[prefix(region, 2)]
	base := location{province: prov.name, provShort: prov.short, towns: genericTowns, areaCode: "0" + strconv.Itoa(100+int(fnvHash(region)%800))}
	if prov.short == "" {
		base.provShort = strings.TrimSuffix(strings.TrimSuffix(name, "县"), "市")
	}
	cityOf := func(code string) (string, string) {
		c, ok := cities[prefix(code, 4)]
		if !ok {
			return "", base.areaCode
		}
		return c.name, c.areaCode
	}
	switch len(region) {
	case 6:
		l := base
		l.city, l.areaCode = cityOf(region)
		for _, c := range counties {
			if c.code == region {
				l.county, l.towns = c.name, c.towns
			}
		}
		if name != "" {
			l.county = name
		}
		l.district = strings.HasSuffix(l.county, "区")
		p.locs = []location{l}
	case 4:
		cname, area := cityOf(region)
		if name != "" {
			cname = name
		}
		for _, c := range counties {
			if strings.HasPrefix(c.code, region) {
				l := base
				l.city, l.areaCode, l.county, l.towns = cname, area, c.name, c.towns
				l.district = strings.HasSuffix(c.name, "区")
				p.locs = append(p.locs, l)
			}
		}
		if len(p.locs) == 0 {
			l := base
			l.city, l.areaCode, l.district = cname, area, true
			p.locs = []location{l}
		}
	default:
		if name != "" {
			base.province = name
		}
		for _, c := range counties {
			if strings.HasPrefix(c.code, region) {
				l := base
				l.city, l.areaCode = cityOf(c.code)
				l.county, l.towns = c.name, c.towns
				l.district = strings.HasSuffix(c.name, "区")
				p.locs = append(p.locs, l)
			}
		}
		if len(p.locs) == 0 {
			p.locs = []location{base}
		}
	}
	return p
}

func prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

func fnvHash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// gridCount is the number of grid cells of a region, 8 to 12, fixed by its code.
func gridCount(region string) int { return 8 + int(fnvHash("grid"+region)%5) }

// gridName is the name of grid cell i (0-based): 网格01, 网格02, ...
func gridName(i int) string {
	if i < 9 {
		return "网格0" + strconv.Itoa(i+1)
	}
	return "网格" + strconv.Itoa(i+1)
}

// prefixName is what a local company puts before its trade name: the county
// (灌云县) or, for a city district, the city (连云港市).
func (l *location) prefixName() string {
	switch {
	case l.county != "" && !l.district:
		return l.county
	case l.city != "":
		return l.city
	case l.county != "":
		return l.county
	}
	return l.provShort
}

// short is the county's name without its suffix, for 灌云经济开发区.
func (l *location) short() string {
	n := l.county
	if n == "" {
		n = l.city
	}
	for _, suf := range []string{"县", "区", "市"} {
		if s := strings.TrimSuffix(n, suf); s != n && len([]rune(s)) >= 2 {
			return s
		}
	}
	return n
}

func (l *location) head() string { return l.province + l.city + l.county }

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func rural(town string) bool { return !strings.HasSuffix(town, "街道") }

func num(rng *rand.Rand, lo, hi int) string { return strconv.Itoa(lo + rng.IntN(hi-lo+1)) }

// homeAddress is a residential address: a village house in the countryside,
// a flat or a street number in town.
func (l *location) homeAddress(rng *rand.Rand, town string) string {
	if rural(town) && rng.IntN(10) < 7 {
		return l.head() + town + pick(rng, villages) + num(rng, 1, 12) + "组" + num(rng, 1, 68) + "号"
	}
	if rng.IntN(2) == 0 {
		return l.head() + town + pick(rng, estates) + num(rng, 1, 28) + "幢" + num(rng, 1, 3) + "单元" + num(rng, 1, 18) + "0" + num(rng, 1, 4) + "室"
	}
	return l.head() + town + pick(rng, roads) + num(rng, 1, 388) + "号"
}

// industrialAddress is a plot in an industrial zone.
func (l *location) industrialAddress(rng *rand.Rand, town string) string {
	if rng.IntN(2) == 0 {
		return l.head() + l.short() + "经济开发区" + pick(rng, industrialRoads) + num(rng, 1, 99) + "号"
	}
	return l.head() + town + "工业集中区" + pick(rng, industrialRoads) + num(rng, 1, 60) + "号"
}

func (l *location) streetAddress(rng *rand.Rand, town string) string {
	return l.head() + town + pick(rng, roads) + num(rng, 1, 388) + "号"
}

func (l *location) villageAddress(rng *rand.Rand, town, village string) string {
	return l.head() + town + village + num(rng, 1, 12) + "组"
}
