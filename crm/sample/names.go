package sample

import (
	"math/rand/v2"
	"strings"
)

// surnames with their approximate share of the population (per mille),
// roughly as in the national household-register statistics, with the
// surnames common in northern Jiangsu.
var surnames = []struct {
	s string
	w int
}{
	{"王", 71}, {"李", 70}, {"张", 67}, {"刘", 54}, {"陈", 52}, {"杨", 31}, {"黄", 22}, {"赵", 20},
	{"吴", 20}, {"周", 19}, {"徐", 18}, {"孙", 14}, {"马", 12}, {"朱", 14}, {"胡", 10}, {"郭", 10},
	{"何", 9}, {"高", 9}, {"林", 8}, {"罗", 8}, {"郑", 7}, {"梁", 7}, {"谢", 6}, {"宋", 5},
	{"唐", 5}, {"许", 6}, {"韩", 5}, {"冯", 4}, {"邓", 4}, {"曹", 4}, {"彭", 4}, {"曾", 3},
	{"肖", 4}, {"田", 4}, {"董", 4}, {"袁", 4}, {"潘", 3}, {"于", 4}, {"蒋", 4}, {"蔡", 3},
	{"余", 3}, {"杜", 3}, {"叶", 3}, {"程", 3}, {"苏", 3}, {"魏", 3}, {"吕", 3}, {"丁", 3},
	{"任", 2}, {"沈", 3}, {"姚", 2}, {"卢", 2}, {"姜", 2}, {"崔", 2}, {"钟", 2}, {"谭", 2},
	{"陆", 3}, {"汪", 2}, {"范", 2}, {"金", 2}, {"石", 2}, {"贾", 2}, {"夏", 2}, {"葛", 2},
	{"仲", 1}, {"倪", 1}, {"顾", 2}, {"惠", 1}, {"卞", 1}, {"祁", 1},
}

var surnameTotal = func() int {
	t := 0
	for _, s := range surnames {
		t += s.w
	}
	return t
}()

var givenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚兰英华玉梅红建国志文斌辉鹏飞宇浩凯俊峰雷龙海波永林桂芝秀凤春兵亮成晨欣怡婷雪琳佳慧子涵梓轩雨萱宏德荣庆福祥宁")

func surname(rng *rand.Rand) string {
	n := rng.IntN(surnameTotal)
	for _, s := range surnames {
		if n < s.w {
			return s.s
		}
		n -= s.w
	}
	return "王"
}

// personName is a surname and one or two given-name characters (张伟, 李秀英).
func personName(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString(surname(rng))
	b.WriteRune(givenChars[rng.IntN(len(givenChars))])
	if rng.IntN(10) < 7 {
		b.WriteRune(givenChars[rng.IntN(len(givenChars))])
	}
	return b.String()
}

// tradeNames are made-up shop and company names (字号).
var tradeNames = strings.Fields("恒通 华兴 永盛 金源 鑫达 宏图 东方 新华 海天 天成 瑞丰 益民 苏北 淮海 正大 精诚 远航 博华 中联 隆昌 兴业 德盛 新宇 鸿运 锦华 裕丰 嘉禾 福瑞 安泰 振华 光明 富源 恒盛 明珠 盛源 同创 宏达 顺发 海纳 佳和 联发 腾飞 荣达 金穗 丰泽 汇源 国泰 润丰")

// expand fills a name template: {C} county or city prefix, {P} province short
// name, {T} trade name, {W} town, {V} village, {N} ordinal (一 to 五).
func expand(rng *rand.Rand, tpl string, l *location, town, village string) string {
	if !strings.Contains(tpl, "{") {
		return tpl
	}
	r := strings.NewReplacer("{C}", l.prefixName(), "{P}", l.provShort, "{T}", pick(rng, tradeNames),
		"{W}", town, "{V}", village, "{N}", pick(rng, []string{"一", "二", "三", "四", "五"}))
	return r.Replace(tpl)
}

// mobile is a mainland mobile number, 1[3-9] and nine digits.
func mobile(rng *rand.Rand) string {
	prefixes := [...]string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157", "158", "159", "177", "180", "181", "182", "183", "187", "188", "189", "191", "198", "199"}
	b := make([]byte, 0, 11)
	b = append(b, prefixes[rng.IntN(len(prefixes))]...)
	for range 8 {
		b = append(b, byte('0'+rng.IntN(10)))
	}
	return string(b)
}

// landline is an office number with the area code: 0518-88123456.
func landline(rng *rand.Rand, area string) string {
	b := make([]byte, 0, 13)
	b = append(b, area...)
	b = append(b, '-', "8868"[rng.IntN(4)])
	for range 7 {
		b = append(b, byte('0'+rng.IntN(10)))
	}
	return string(b)
}
