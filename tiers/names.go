package tiers

import (
	"slices"
	"strings"
	"sync"
)

// names is the built-in table of region names (GB/T 2260, short codes). It
// covers Jiangsu: the province, all 13 cities, and the counties, districts
// and county-level cities of every city except 南通 3206, whose codes changed
// in 2020 (崇川/港闸 merged, 海门 became a district) and are left out rather
// than guessed. Extend it only with codes checked against the current list.
var names = map[RegionCode]string{
	"32": "江苏省",

	"3201": "南京市",
	"3202": "无锡市",
	"3203": "徐州市",
	"3204": "常州市",
	"3205": "苏州市",
	"3206": "南通市",
	"3207": "连云港市",
	"3208": "淮安市",
	"3209": "盐城市",
	"3210": "扬州市",
	"3211": "镇江市",
	"3212": "泰州市",
	"3213": "宿迁市",

	// 3201 南京市
	"320102": "玄武区",
	"320104": "秦淮区",
	"320105": "建邺区",
	"320106": "鼓楼区",
	"320111": "浦口区",
	"320113": "栖霞区",
	"320114": "雨花台区",
	"320115": "江宁区",
	"320116": "六合区",
	"320117": "溧水区",
	"320118": "高淳区",

	// 3202 无锡市
	"320205": "锡山区",
	"320206": "惠山区",
	"320211": "滨湖区",
	"320213": "梁溪区",
	"320214": "新吴区",
	"320281": "江阴市",
	"320282": "宜兴市",

	// 3203 徐州市
	"320302": "鼓楼区",
	"320303": "云龙区",
	"320305": "贾汪区",
	"320311": "泉山区",
	"320312": "铜山区",
	"320321": "丰县",
	"320322": "沛县",
	"320324": "睢宁县",
	"320381": "新沂市",
	"320382": "邳州市",

	// 3204 常州市
	"320402": "天宁区",
	"320404": "钟楼区",
	"320411": "新北区",
	"320412": "武进区",
	"320413": "金坛区",
	"320481": "溧阳市",

	// 3205 苏州市
	"320505": "虎丘区",
	"320506": "吴中区",
	"320507": "相城区",
	"320508": "姑苏区",
	"320509": "吴江区",
	"320581": "常熟市",
	"320582": "张家港市",
	"320583": "昆山市",
	"320585": "太仓市",

	// 3207 连云港市
	"320703": "连云区",
	"320706": "海州区",
	"320707": "赣榆区",
	"320722": "东海县",
	"320723": "灌云县",
	"320724": "灌南县",

	// 3208 淮安市
	"320803": "淮安区",
	"320804": "淮阴区",
	"320812": "清江浦区",
	"320813": "洪泽区",
	"320826": "涟水县",
	"320830": "盱眙县",
	"320831": "金湖县",

	// 3209 盐城市
	"320902": "亭湖区",
	"320903": "盐都区",
	"320904": "大丰区",
	"320921": "响水县",
	"320922": "滨海县",
	"320923": "阜宁县",
	"320924": "射阳县",
	"320925": "建湖县",
	"320981": "东台市",

	// 3210 扬州市
	"321002": "广陵区",
	"321003": "邗江区",
	"321012": "江都区",
	"321023": "宝应县",
	"321081": "仪征市",
	"321084": "高邮市",

	// 3211 镇江市
	"321102": "京口区",
	"321111": "润州区",
	"321112": "丹徒区",
	"321181": "丹阳市",
	"321182": "扬中市",
	"321183": "句容市",

	// 3212 泰州市
	"321202": "海陵区",
	"321203": "高港区",
	"321204": "姜堰区",
	"321281": "兴化市",
	"321282": "靖江市",
	"321283": "泰兴市",

	// 3213 宿迁市
	"321302": "宿城区",
	"321311": "宿豫区",
	"321322": "沭阳县",
	"321323": "泗阳县",
	"321324": "泗洪县",
}

// Name returns the Chinese name of c from the built-in table (e.g. "东海县"
// for 320722), or "" if the table does not know c.
func Name(c RegionCode) string { return names[c] }

// Jiangsu returns the built-in tree of province 32 江苏省: all 13 cities and
// the counties of every city in the name table (all but 南通 3206, which has
// no counties here). Every call returns the same immutable tree.
func Jiangsu() *Tree { return jiangsu() }

var jiangsu = sync.OnceValue(func() *Tree {
	var regions []Region
	for c := range names {
		if strings.HasPrefix(string(c), "32") {
			regions = append(regions, Region{Code: c})
		}
	}
	slices.SortFunc(regions, func(a, b Region) int { return strings.Compare(string(a.Code), string(b.Code)) })
	t, err := NewTree(regions)
	if err != nil {
		panic("tiers: the built-in Jiangsu table is broken: " + err.Error())
	}
	return t
})
