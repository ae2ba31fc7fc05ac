package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"
	"gridcrm/analytics/records"
	"gridcrm/crm"
	"gridcrm/tiers"
)

// Excel export: GET /api/v1/export.xlsx?path=<a list route>&<its query>
// answers, as one .xlsx workbook, every row the list route answers for that
// query, with Chinese headers: the console's 导出Excel button beside each
// table asks for it with the table's own route and filters.
//
// The export runs the list route itself, through the API's own router,
// with the caller's credential (Authorization header or session cookie),
// page after page (limit 1000, the next cursor): authentication, roles,
// region scope and the filters' checks are the route's own, so an export
// holds exactly the rows the caller could list and no other; a refusal of
// the route is the export's answer. It stops at Config.MaxExportRows (413, the
// filters match more). Pages after the first read the local replica
// (consistency=stale) unless the caller asks otherwise: the first passed
// the read barrier. A collection's list asked without region or scope by
// a user whose region lies below the node's is scoped to the user's
// region and its subtree.
//
// Which routes: those exportSpecs names (Chinese headers, value formats),
// and any collection's list route (/api/v1/<collection>), whose columns
// without a spec are the fields of the first page's records under their
// JSON names. Rows go into the workbook page by page (excelize's stream
// writer), so an export holds one page of records in memory at a time.

// defaultMaxExportRows is the most rows one export holds (Config.MaxExportRows).
const defaultMaxExportRows = 100_000

// exportSlots bounds the exports a process builds at once (each reads up
// to 100 pages and builds a workbook of up to 100,000 rows); one more
// waits up to exportWait for a slot, then answers 429 with Retry-After.
var exportSlots = make(chan struct{}, 2)

var exportWait = 30 * time.Second // a variable for the test

// exportCol is one column: a field of a row (or a computed value) under
// a Chinese header, and how its value is written.
type exportCol struct {
	Field  string
	Header string
	// Format: "" text; "int", "num" (two decimals), "yuan", "kwh" (numbers
	// with a format; the header names the unit); "pct" (a ratio shown as
	// %); "time" (date and time, China Standard Time), "date"; "bool"
	// (是/否); "label:<table>" (exportLabels' Chinese names of codes).
	Format string
	// Value computes the value from the row and the whole answer (nil: the
	// row's Field).
	Value func(row, whole map[string]any) any
}

// exportSpec is how one route's rows become a sheet.
type exportSpec struct {
	Title string // the sheet's and the file's name
	// Items is the answer's key holding the rows; "items" pages by the
	// answer's next cursor, any other key is one answer's array.
	Items string
	// Offset: the route pages by limit and offset and answers the whole
	// list's length as "count" (the supervision lists); the export reads
	// every page.
	Offset bool
	Cols   []exportCol
	// Tables are the route's other lists, by the export's table=<key>
	// parameter (e.g. the market analysis's by_voltage_class beside its
	// by_category).
	Tables map[string]*exportSpec
}

// exportLabels are the Chinese names of coded values, as the console's
// L table shows them.
var exportLabels = map[string]map[string]string{
	"category":     {"residential": "居民", "commercial": "商业", "industrial": "工业", "agricultural": "农业", "public": "机关/公共"},
	"status":       {"active": "正常", "suspended": "暂停", "closed": "销户"},
	"role":         {"admin": "管理员", "manager": "经理", "agent": "客户经理", "analyst": "分析员"},
	"woState":      {"received": "受理", "dispatched": "派单", "accepted": "接单", "on_site": "到达现场", "done": "处理完成", "revisited": "回访", "archived": "归档"},
	"outage":       {"planned": "计划停电", "temporary": "临时停电", "fault": "故障停电"},
	"outageStatus": {"scheduled": "计划中", "in_progress": "进行中", "done": "已结束", "cancelled": "已取消"},
	"project":      {"open": "在办", "energised": "已送电", "cancelled": "已取消"},
	"projectKind":  {"new_connection": "新装", "capacity_increase": "增容"},
	"urgency":      {"ordinary": "一般", "important": "重要", "urgent": "紧急"},
	"mode":         {"autonomous": "自治", "partial": "部分管理", "full": "集中管理"},
	"direction":    {"up": "上行（至上级）", "down": "下行（自上级）", "from-child": "来自下级"},
	"linkState":    {"up": "正常", "down": "中断", "resyncing": "重同步中", "idle": "非主节点"},
	"voltage":      {"low": "低压（<1千伏）", "medium": "中压（1–35千伏）", "high": "高压（≥35千伏）"},
	"ackStatus":    {"open": "待处理", "acknowledged": "已确认", "dismissed": "已忽略"},
	"industry":     {"unknown": "未填行业"},
	// The analytics' reasons (analytics/warning, analytics/credit, analytics/market), as the console's GC.reason shows them.
	"reason": {"zero": "零电量", "drop": "电量骤降", "rise": "电量骤增", "churn_risk": "流失风险", "tariff": "电价调整",
		"peak_share": "峰段占比变化", "capacity_charge": "基本电费", "veto:theft_24m": "否决：24个月内窃电", "veto:arrears_3m": "否决：连续3个月欠费",
		"late_3m": "近3个月迟缴", "late_6m": "近6个月迟缴", "late_12m": "近12个月迟缴", "late_24m": "近24个月迟缴",
		"unpaid_3m": "近3个月欠费", "unpaid_6m": "近6个月欠费", "unpaid_12m": "近12个月欠费", "unpaid_24m": "近24个月欠费",
		"over_30_days_late": "逾期超30天", "max_days_late": "最长逾期天数", "days_late_total": "累计逾期天数", "late_last_bill": "上期电费迟缴",
		"arrears_streak": "连续欠费", "violation_24m": "违约用电", "theft_24m": "窃电", "no_direct_debit": "未办代扣", "short_tenure": "用电年限短",
		"category": "用电类别", "consumption_change": "用电量变化", "consumption_volatile": "用电量波动大", "consumption_level": "用电规模",
		"bill_per_kwh_change": "度电电费变化"},
}

var metaCols = []exportCol{{Field: "id", Header: "编号"}, {Field: "owner", Header: "所属区域"},
	{Field: "created_at", Header: "创建时间", Format: "time"}, {Field: "updated_at", Header: "更新时间", Format: "time"}}

func withMeta(cols ...exportCol) []exportCol { return append(cols, metaCols...) }

// exportSpecs are the routes with Chinese headers, by path.
var exportSpecs = map[string]*exportSpec{
	"/api/v1/customers": {Title: "客户", Items: "items", Cols: withMeta(
		exportCol{Field: "account_no", Header: "户号"}, exportCol{Field: "name", Header: "名称"},
		exportCol{Field: "category", Header: "类别", Format: "label:category"}, exportCol{Field: "voltage_kv", Header: "电压（千伏）", Format: "num"},
		exportCol{Field: "capacity_kva", Header: "合同容量（千伏安）", Format: "num"}, exportCol{Field: "industry", Header: "行业"},
		exportCol{Field: "region", Header: "区域"}, exportCol{Field: "grid", Header: "网格"}, exportCol{Field: "feeder", Header: "线路"},
		exportCol{Field: "transformer_area", Header: "台区"}, exportCol{Field: "phone", Header: "电话"}, exportCol{Field: "address", Header: "地址"},
		exportCol{Field: "tags", Header: "标签"}, exportCol{Field: "status", Header: "状态", Format: "label:status"})},
	"/api/v1/bills": {Title: "电费账单", Items: "items", Cols: withMeta(
		exportCol{Field: "customer_id", Header: "客户编号"}, exportCol{Field: "period", Header: "账期"},
		exportCol{Field: "kwh", Header: "电量（千瓦时）", Format: "kwh"}, exportCol{Field: "kwh_peak", Header: "峰电量（千瓦时）", Format: "kwh"},
		exportCol{Field: "kwh_flat", Header: "平电量（千瓦时）", Format: "kwh"}, exportCol{Field: "kwh_valley", Header: "谷电量（千瓦时）", Format: "kwh"},
		exportCol{Field: "billed", Header: "应收电费（元）", Format: "yuan"}, exportCol{Field: "paid", Header: "实收电费（元）", Format: "yuan"},
		exportCol{Field: "arrears", Header: "欠费（元）", Format: "yuan"}, exportCol{Field: "pay_date", Header: "缴费日期", Format: "date"})},
	"/api/v1/contacts": {Title: "联系人", Items: "items", Cols: withMeta(
		exportCol{Field: "customer_id", Header: "客户编号"}, exportCol{Field: "name", Header: "姓名"}, exportCol{Field: "title", Header: "职务"},
		exportCol{Field: "phone", Header: "电话"}, exportCol{Field: "email", Header: "邮箱"}, exportCol{Field: "primary", Header: "主要联系人", Format: "bool"})},
	"/api/v1/interactions": {Title: "客户接触", Items: "items", Cols: withMeta(
		exportCol{Field: "customer_id", Header: "客户编号"}, exportCol{Field: "staff_id", Header: "员工编号"}, exportCol{Field: "kind", Header: "方式"},
		exportCol{Field: "at", Header: "时间", Format: "time"}, exportCol{Field: "summary", Header: "摘要"}, exportCol{Field: "outcome", Header: "结果"})},
	"/api/v1/staff": {Title: "员工", Items: "items", Cols: withMeta(
		exportCol{Field: "staff_no", Header: "工号"}, exportCol{Field: "name", Header: "姓名"}, exportCol{Field: "role", Header: "岗位"},
		exportCol{Field: "region", Header: "区域"}, exportCol{Field: "team", Header: "班组"}, exportCol{Field: "phone", Header: "电话"}, exportCol{Field: "email", Header: "邮箱"})},
	"/api/v1/work_orders": {Title: "工单", Items: "items", Cols: withMeta(
		exportCol{Field: "received_at", Header: "受理时间", Format: "time"}, exportCol{Field: "channel", Header: "渠道"}, exportCol{Field: "kind", Header: "类型"},
		exportCol{Field: "urgency", Header: "紧急程度", Format: "label:urgency"}, exportCol{Field: "subject", Header: "主题"},
		exportCol{Field: "customer_id", Header: "客户编号"}, exportCol{Field: "region", Header: "处理区域"},
		exportCol{Field: "state", Header: "状态", Format: "label:woState"}, exportCol{Field: "done_at", Header: "处理完成时间", Format: "time"})},
	"/api/v1/projects": {Title: "报装项目", Items: "items", Cols: withMeta(
		exportCol{Field: "title", Header: "项目"}, exportCol{Field: "kind", Header: "类型", Format: "label:projectKind"},
		exportCol{Field: "customer_id", Header: "客户编号"}, exportCol{Field: "region", Header: "区域"},
		exportCol{Field: "voltage_kv", Header: "电压（千伏）", Format: "num"}, exportCol{Field: "capacity_kva", Header: "容量（千伏安）", Format: "num"},
		exportCol{Field: "accepted_at", Header: "受理时间", Format: "time"}, exportCol{Field: "status", Header: "状态", Format: "label:project"},
		exportCol{Field: "energised_at", Header: "送电时间", Format: "time"})},
	"/api/v1/outages": {Title: "停电", Items: "items", Cols: withMeta(
		exportCol{Field: "type", Header: "类型", Format: "label:outage"}, exportCol{Field: "region", Header: "区域"},
		exportCol{Field: "feeder", Header: "线路"}, exportCol{Field: "transformer_area", Header: "台区"},
		exportCol{Field: "start", Header: "开始时间", Format: "time"}, exportCol{Field: "end", Header: "结束时间", Format: "time"},
		exportCol{Field: "reason", Header: "原因"}, exportCol{Field: "status", Header: "状态", Format: "label:outageStatus"},
		exportCol{Field: "notice_compliant", Header: "通知合规", Format: "bool"})},
	"/api/v1/users": {Title: "用户", Items: "items", Cols: withMeta(
		exportCol{Field: "username", Header: "用户名"}, exportCol{Field: "display_name", Header: "姓名"},
		exportCol{Field: "role", Header: "角色", Format: "label:role"}, exportCol{Field: "region", Header: "区域"}, exportCol{Field: "disabled", Header: "已停用", Format: "bool"})},
	// The hierarchy page's tables (console: 层级).
	"/api/v1/ops/regions": {Title: "各区域", Items: "regions", Cols: []exportCol{
		{Field: "region", Header: "区域"}, {Field: "name", Header: "名称", Value: regionName}, {Field: "leader", Header: "主节点"},
		{Field: "term", Header: "任期", Format: "int"}, {Field: "mode", Header: "管理模式", Format: "label:mode"}, {Field: "epoch", Header: "纪元", Format: "int"},
		{Field: "writer", Header: "写入方"}, {Field: "pending_commands", Header: "待回执指令", Format: "int"},
		{Field: "open_conflicts", Header: "未决冲突", Format: "int"}, {Field: "heartbeat_age_seconds", Header: "心跳（秒前）", Format: "num"}}},
	"/api/v1/sync/status": {Title: "层间链路", Items: "links", Cols: []exportCol{
		{Field: "peer", Header: "对端"}, {Field: "name", Header: "名称", Value: func(row, _ map[string]any) any { return regionName(map[string]any{"region": row["peer"]}, nil) }},
		{Field: "direction", Header: "方向", Format: "label:direction"}, {Field: "state", Header: "状态", Format: "label:linkState"},
		{Field: "mode", Header: "管理模式", Format: "label:mode"}, {Field: "epoch", Header: "纪元", Format: "int"},
		{Field: "lag_entries", Header: "滞后条目", Format: "int"}, {Field: "lag_seconds", Header: "滞后秒数", Format: "num"},
		{Field: "last_contact", Header: "最近联系", Format: "time"}, {Field: "resyncs", Header: "重同步", Format: "int"},
		{Field: "queued_commands", Header: "排队指令", Format: "int"}, {Field: "rejected", Header: "拒绝", Format: "int"}, {Field: "last_error", Header: "最近错误"}}},
	// The overview's table of the regions below (console: 下级区域).
	"/api/v1/stats/overview": {Title: "下级区域", Items: "children", Cols: []exportCol{
		{Field: "name", Header: "下级区域"}, {Field: "region", Header: "代码"}, {Field: "customers", Header: "客户数", Format: "int"},
		{Field: "kwh_12m", Header: "近12个月售电量（千瓦时）", Format: "kwh", Value: kwhLast12},
		{Field: "billed_total", Header: "应收电费（累计，元）", Format: "yuan"}, {Field: "collection_rate", Header: "回收率", Format: "pct"},
		{Field: "arrears", Header: "欠费金额（元）", Format: "yuan"}, {Field: "work_orders_open", Header: "在办工单", Format: "int"},
		{Field: "project_stages_overdue", Header: "逾期环节", Format: "int"}, {Field: "outages_this_month", Header: "本月停电", Format: "int"},
		{Field: "freshness_age_seconds", Header: "数据新鲜度（秒）", Format: "int"}}},
}

// The analytics page's tables (console: 分析; api/analytics.go,
// api/warnings.go, api/market.go).
func init() {
	band := []exportCol{{Field: "lo80", Header: "80%下限（千瓦时）", Format: "kwh"}, {Field: "hi80", Header: "80%上限（千瓦时）", Format: "kwh"},
		{Field: "lo95", Header: "95%下限（千瓦时）", Format: "kwh"}, {Field: "hi95", Header: "95%上限（千瓦时）", Format: "kwh"}}
	totals := func(title, items string) *exportSpec {
		return &exportSpec{Title: title, Items: items, Cols: append([]exportCol{{Field: "period", Header: "期间"},
			{Field: "kwh", Header: "电量（千瓦时）", Format: "kwh"}, {Field: "known_months", Header: "实际月数", Format: "int"},
			{Field: "forecast_months", Header: "预测月数", Format: "int"}, {Field: "truncated", Header: "不完整", Format: "bool"}}, band...)}
	}
	exportSpecs["/api/v1/forecast/demand"] = &exportSpec{Title: "电量需求预测", Items: "months",
		Cols:   append([]exportCol{{Field: "month", Header: "月份"}, {Field: "kwh", Header: "预测电量（千瓦时）", Format: "kwh"}}, band...),
		Tables: map[string]*exportSpec{"quarters": totals("需求预测（季度）", "quarters"), "years": totals("需求预测（年度）", "years")}}
	grades := []exportCol{{Field: "period", Header: "评价月份"}, {Field: "customers", Header: "客户数", Format: "int"}}
	for _, g := range records.CreditGrades {
		grades = append(grades, exportCol{Field: g, Header: g + "级客户数", Format: "int", Value: nested("by_grade", g)},
			exportCol{Field: g, Header: g + "级占比", Format: "pct", Value: nested("share", g)},
			exportCol{Field: g, Header: g + "级占比变化", Format: "pct", Value: nested("share_change", g)})
	}
	exportSpecs["/api/v1/credit/distribution"] = &exportSpec{Title: "信用等级分布", Items: "months", Cols: grades}
	warn := func(cols ...exportCol) []exportCol {
		return append(append([]exportCol{{Field: "name", Header: "客户"}, {Field: "customer_id", Header: "客户编号"}, {Field: "region", Header: "区域"},
			{Field: "category", Header: "类别", Format: "label:category"}, {Field: "period", Header: "月份"}}, cols...),
			exportCol{Field: "manager_id", Header: "客户经理编号"}, exportCol{Field: "status", Header: "处理状态", Format: "label:ackStatus"},
			exportCol{Field: "note", Header: "处理说明"})
	}
	exportSpecs["/api/v1/warnings/abnormal"] = &exportSpec{Title: "用电异常预警", Items: "warnings", Cols: warn(
		exportCol{Field: "reasons", Header: "原因", Value: reasonNames}, exportCol{Field: "kwh", Header: "实际电量（千瓦时）", Format: "kwh"},
		exportCol{Field: "expected_kwh", Header: "预计电量（千瓦时）", Format: "kwh"}, exportCol{Field: "lo_kwh", Header: "正常区间下限（千瓦时）", Format: "kwh"},
		exportCol{Field: "hi_kwh", Header: "正常区间上限（千瓦时）", Format: "kwh"}, exportCol{Field: "change", Header: "变化", Format: "pct"})}
	exportSpecs["/api/v1/warnings/churn"] = &exportSpec{Title: "流失预警", Items: "warnings", Cols: warn(
		exportCol{Field: "churn_risk", Header: "流失风险", Format: "pct"}, exportCol{Field: "grade", Header: "信用等级"},
		exportCol{Field: "reasons", Header: "原因", Value: reasonNames})}
	exportSpecs["/api/v1/analysis/tariff"] = &exportSpec{Title: "平均电价", Items: "prices", Cols: []exportCol{
		{Field: "month", Header: "月份"}, {Field: "value", Header: "类别或电压等级", Value: sliceName},
		{Field: "kwh", Header: "电量（千瓦时）", Format: "kwh"}, {Field: "yuan", Header: "电费（元）", Format: "yuan"},
		{Field: "yuan_per_kwh", Header: "平均电价（元/千瓦时）", Format: "price"}, {Field: "mom", Header: "环比", Format: "pct"},
		{Field: "yoy", Header: "同比", Format: "pct"}, {Field: "kwh_yoy", Header: "电量同比", Format: "pct"},
		{Field: "yuan_yoy", Header: "电费同比", Format: "pct"}, {Field: "bill_vs_kwh", Header: "电费同比减电量同比", Format: "pct"}}}
	growth := func(title, items, head, labels string) *exportSpec {
		return &exportSpec{Title: title, Items: items, Cols: []exportCol{{Field: "value", Header: head, Format: "label:" + labels},
			{Field: "kwh", Header: "售电量（千瓦时）", Format: "kwh"}, {Field: "kwh_year_ago", Header: "去年同月（千瓦时）", Format: "kwh"},
			{Field: "kwh_yoy", Header: "同比", Format: "pct"}, {Field: "customers_billed", Header: "计费客户", Format: "int"},
			{Field: "customers_yoy", Header: "客户同比", Format: "pct"}, {Field: "kwh_share", Header: "电量占比", Format: "pct"},
			{Field: "kwh_share_year_ago", Header: "去年占比", Format: "pct"}}}
	}
	exportSpecs["/api/v1/analysis/market"] = func() *exportSpec {
		sp := growth("市场分析（用电类别）", "by_category", "用电类别", "category")
		sp.Tables = map[string]*exportSpec{"by_voltage_class": growth("市场分析（电压等级）", "by_voltage_class", "电压等级", "voltage"),
			"by_industry": {Title: "市场分析（行业）", Items: "by_industry", Cols: []exportCol{{Field: "industry", Header: "行业", Format: "label:industry"},
				{Field: "customers", Header: "客户数", Format: "int"}, {Field: "kwh_12m", Header: "近12个月电量（千瓦时）", Format: "kwh"},
				{Field: "kwh_12m_prev", Header: "前12个月电量（千瓦时）", Format: "kwh"}, {Field: "growth", Header: "增长", Format: "pct"},
				{Field: "kwh_share", Header: "电量占比", Format: "pct"}}},
			"time_of_use": {Title: "峰平谷占比", Items: "time_of_use", Cols: []exportCol{{Field: "month", Header: "月份"},
				{Field: "peak", Header: "峰", Format: "pct"}, {Field: "flat", Header: "平", Format: "pct"}, {Field: "valley", Header: "谷", Format: "pct"},
				{Field: "metered_kwh", Header: "分时计量电量（千瓦时）", Format: "kwh"}, {Field: "coverage", Header: "覆盖率", Format: "pct"}}}}
		return sp
	}()
	exportSpecs["/api/v1/analysis/customers"] = &exportSpec{Title: "客户排行", Items: "customers", Cols: []exportCol{
		{Field: "name", Header: "客户"}, {Field: "customer_id", Header: "客户编号"}, {Field: "category", Header: "类别", Format: "label:category"},
		{Field: "period", Header: "月份"}, {Field: "kwh_12m", Header: "近12个月电量（千瓦时）", Format: "kwh"},
		{Field: "kwh_12m_prev", Header: "前12个月电量（千瓦时）", Format: "kwh"}, {Field: "growth", Header: "电量增长", Format: "pct"},
		{Field: "yuan_12m", Header: "近12个月电费（元）", Format: "yuan"}, {Field: "bill_growth", Header: "电费增长", Format: "pct"},
		{Field: "bill_vs_kwh", Header: "电费减电量增长", Format: "pct"}, {Field: "bill_reason", Header: "原因", Format: "label:reason"},
		{Field: "peak_share", Header: "峰段占比", Format: "pct"}, {Field: "manager_id", Header: "客户经理编号"}}}
}

// nested answers a column's value read from row[key][field].
func nested(key, field string) func(row, _ map[string]any) any {
	return func(row, _ map[string]any) any {
		m, _ := row[key].(map[string]any)
		return m[field]
	}
}

// reasonNames is a warning's reasons in Chinese (exportLabels["reason"];
// a code without a name as it is), joined by 、.
func reasonNames(row, _ map[string]any) any {
	rs, _ := row["reasons"].([]any)
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		s := text(r)
		if l, ok := exportLabels["reason"][s]; ok {
			s = l
		}
		out = append(out, s)
	}
	return strings.Join(out, "、")
}

// sliceName is a tariff row's category or voltage class in Chinese, by
// the answer's dim.
func sliceName(row, whole map[string]any) any {
	table := "category"
	if whole["dim"] == "voltage_class" {
		table = "voltage"
	}
	v, _ := row["value"].(string)
	if l, ok := exportLabels[table][v]; ok {
		return l
	}
	return v
}

// regionName is the name of a row's region (tiers' table; "" for a code it
// does not hold).
func regionName(row, _ map[string]any) any {
	code, _ := row["region"].(string)
	return tiers.Name(tiers.RegionCode(code))
}

// kwhLast12 is a child row's kWh over the 12 months up to the overview's
// latest month, as the console's table shows it.
func kwhLast12(row, whole map[string]any) any {
	all, _ := whole["kwh_by_month"].(map[string]any)
	latest := ""
	for m := range all {
		latest = max(latest, m)
	}
	by, _ := row["kwh_by_month"].(map[string]any)
	if latest == "" || by == nil {
		return nil
	}
	y, _ := strconv.Atoi(latest[:min(4, len(latest))])
	mo, _ := strconv.Atoi(latest[min(5, len(latest)):])
	sum := 0.0
	for range 12 {
		if f, ok := number(by[fmt.Sprintf("%04d-%02d", y, mo)]); ok {
			sum += f
		}
		if mo--; mo == 0 {
			y, mo = y-1, 12
		}
	}
	return sum
}

func (s *Server) exportRoutes(v1 *gin.RouterGroup) {
	v1.GET("/export.xlsx", allow(readRoles...), s.export)
}

func exportOps() []op {
	return []op{{method: "GET", path: "/api/v1/export.xlsx", summary: fmt.Sprintf("Every row a list route answers for a query, as an Excel workbook with Chinese headers: path names the route "+
		"(a collection's list; /api/v1/stats/overview for its child regions; /api/v1/ops/regions, /api/v1/sync/status; the analytics lists: forecast/demand, credit/distribution, warnings/abnormal and churn, analysis/tariff, market and customers), table picks another list of the same answer (forecast/demand: quarters, years; analysis/market: by_voltage_class, by_industry, time_of_use), the other parameters are that route's own. The route runs with the caller's credential, "+
		"roles and region scope, page after page; at most %d rows by default (413 past it)", defaultMaxExportRows),
		ok: 200, roles: readRoles, query: []string{"path", "table"}, ctype: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		out: map[string]any{"type": "string", "format": "binary"}}}
}

// exportSpecOf answers the spec of path, or nil when it is not exportable.
func exportSpecOf(path string) *exportSpec {
	if sp, ok := exportSpecs[path]; ok {
		return sp
	}
	if coll, ok := strings.CutPrefix(path, "/api/v1/"); ok {
		if _, ok := crm.Kinds[coll]; ok {
			return &exportSpec{Title: coll, Items: "items"}
		}
	}
	return nil
}

func exportablePaths() []string {
	out := make([]string, 0, len(exportSpecs))
	for p := range exportSpecs {
		out = append(out, p)
	}
	sort.Strings(out)
	return append(out, "/api/v1/<collection>")
}

// exportOffsetPage is how many items an export asks of a route that pages
// by offset at a time (a variable for tests).
var exportOffsetPage = crm.MaxLimit

// export is GET /api/v1/export.xlsx.
func (s *Server) export(c *gin.Context) {
	q := c.Request.URL.Query()
	path := q.Get("path")
	switch {
	case len(q["path"]) != 1 || path == "":
		fail(c, apiErr(crm.CodeInvalid, "path", "is required once: the list route to export, e.g. /api/v1/customers"))
		return
	case exportSpecOf(path) == nil:
		fail(c, apiErr(crm.CodeInvalid, "path", fmt.Sprintf("%q cannot be exported; exportable: %s", path, strings.Join(exportablePaths(), ", "))))
		return
	}
	spec := exportSpecOf(path)
	if q.Has("table") {
		t := q.Get("table")
		if spec.Tables[t] == nil {
			keys := make([]string, 0, len(spec.Tables))
			for k := range spec.Tables {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			fail(c, apiErr(crm.CodeInvalid, "table", fmt.Sprintf("%q: %s has no such table; its tables: %v (leave table out for the first)", t, path, keys)))
			return
		}
		spec = spec.Tables[t]
		q.Del("table")
	}
	for _, k := range []string{"limit", "after", "offset"} {
		if q.Has(k) {
			fail(c, apiErr(crm.CodeInvalid, k, "an export holds every row the filters match: leave out limit and after"))
			return
		}
	}
	select {
	case exportSlots <- struct{}{}:
		defer func() { <-exportSlots }()
	case <-c.Request.Context().Done():
		fail(c, apiErr(codeUnavailable, "", "the request ended while waiting for an export slot"))
		return
	case <-time.After(exportWait):
		c.Header("Retry-After", "10")
		fail(c, apiErr(codeThrottled, "", fmt.Sprintf("%d exports are being built on this node: retry in 10 s", cap(exportSlots))))
		return
	}
	q.Del("path")
	paged := spec.Items == "items"
	offset := 0
	if spec.Offset {
		q.Set("limit", strconv.Itoa(exportOffsetPage))
		q.Set("offset", "0")
	}
	if paged {
		q.Set("limit", strconv.Itoa(crm.MaxLimit))
		if u := who(c).User; !q.Has("region") && !q.Has("scope") && len(u.Region) > len(s.cfg.Region) {
			q.Set("region", u.Region)
			q.Set("scope", "subtree")
		}
	}
	// Each page's rows go into the sheet as they come: one page is held at
	// a time (the stream writer keeps the sheet, spilling to a temporary
	// file when it grows).
	var (
		out   *sheetWriter
		whole map[string]any
		err   error
	)
	defer func() {
		if out != nil {
			_ = out.f.Close() // removes the stream's temporary file
		}
	}()
	for {
		st, body := s.innerGET(c, path, q)
		if st != http.StatusOK {
			c.Data(st, "application/json", body) // the route's own refusal
			c.Abort()
			return
		}
		var ans map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&ans); err != nil {
			fail(c, apiErr(codeInternal, "path", path+" did not answer JSON: "+err.Error()))
			return
		}
		items, ok := ans[spec.Items].([]any)
		if !ok && ans[spec.Items] != nil {
			fail(c, apiErr(codeInternal, "path", path+" answered no list of rows under "+spec.Items))
			return
		}
		rows := make([]map[string]any, 0, len(items))
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				rows = append(rows, m)
			}
		}
		if out == nil {
			whole = ans
			cols := spec.Cols
			if cols == nil {
				cols = fieldCols(rows) // the first page's fields
			}
			if out, err = newSheetWriter(spec.Title, cols); err != nil {
				fail(c, apiErr(codeInternal, "", "build the workbook: "+err.Error()))
				return
			}
		}
		if out.n+len(rows) > s.cfg.MaxExportRows {
			fail(c, apiErr(crm.CodeTooLarge, "path", fmt.Sprintf("the filters match more than %d rows, the most one export holds: narrow them (region, scope, filters)", s.cfg.MaxExportRows)))
			return
		}
		for _, r := range rows {
			if err = out.add(r, whole); err != nil {
				fail(c, apiErr(codeInternal, "", "build the workbook: "+err.Error()))
				return
			}
		}
		if spec.Offset {
			offset += len(rows)
			count, _ := ans["count"].(json.Number).Int64()
			if len(rows) == 0 || int64(offset) >= count {
				break
			}
			q.Set("offset", strconv.Itoa(offset))
			if !q.Has("consistency") {
				q.Set("consistency", "stale") // the first page passed the read barrier
			}
			continue
		}
		next, _ := ans["next"].(string)
		if !paged || next == "" {
			break
		}
		q.Set("after", next)
		if !q.Has("consistency") {
			q.Set("consistency", "stale") // the first page passed the read barrier
		}
	}
	f := out.f
	err = out.sw.Flush()
	if err == nil {
		err = describe(f, spec.Title, path, c, out.n)
	}
	var buf bytes.Buffer
	if err == nil {
		_, err = f.WriteTo(&buf)
	}
	if err != nil {
		fail(c, apiErr(codeInternal, "", "build the workbook: "+err.Error()))
		return
	}
	name := spec.Title
	if r := c.Query("region"); r != "" {
		name += "-" + r
	}
	name += "-" + time.Now().In(exportZone).Format("20060102-1504") + ".xlsx"
	c.Header("Content-Disposition", `attachment; filename="export.xlsx"; filename*=UTF-8''`+url.PathEscape(name))
	c.Header("Cache-Control", "no-store")
	c.Header("X-Export-Rows", strconv.Itoa(out.n))
	c.Data(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}

// exportZone is China Standard Time (UTC+8, no daylight saving), in which
// the export writes times.
var exportZone = time.FixedZone("CST", 8*3600)

// innerGET runs GET path?q through the API's router with the caller's
// credential and transport, and answers the status and body.
func (s *Server) innerGET(c *gin.Context, path string, q url.Values) (int, []byte) {
	u := url.URL{Path: path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(c.Request.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return http.StatusBadRequest, mustJSON(errorBody{Error: apiErr(crm.CodeInvalid, "path", err.Error())})
	}
	req.RemoteAddr, req.Host, req.TLS = c.Request.RemoteAddr, c.Request.Host, c.Request.TLS
	for _, h := range []string{"Authorization", "Cookie", "X-Forwarded-For"} {
		if v := c.Request.Header.Values(h); len(v) > 0 {
			req.Header[h] = slices.Clone(v)
		}
	}
	w := &bufferWriter{header: http.Header{}}
	s.engine.ServeHTTP(w, req)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.status, w.body.Bytes()
}

// bufferWriter is an http.ResponseWriter that keeps the answer.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header { return w.header }
func (w *bufferWriter) WriteHeader(st int) {
	if w.status == 0 {
		w.status = st
	}
}
func (w *bufferWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// fieldCols are the columns of rows without a spec: every field the rows
// hold, by name, under its JSON name.
func fieldCols(rows []map[string]any) []exportCol {
	seen := map[string]bool{}
	var names []string
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	cols := make([]exportCol, 0, len(names))
	for _, n := range names {
		cols = append(cols, exportCol{Field: n, Header: n})
	}
	return cols
}

// number reads a JSON number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// text is a value as a cell's text.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "是"
		}
		return "否"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, text(e))
		}
		return strings.Join(parts, "、")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// sheetWriter writes rows under cols into a new workbook's first sheet
// (named title), under a bold, frozen header row.
type sheetWriter struct {
	f      *excelize.File
	sw     *excelize.StreamWriter
	cols   []exportCol
	styles map[string]int
	n      int // rows written
}

func newSheetWriter(title string, cols []exportCol) (*sheetWriter, error) {
	f := excelize.NewFile()
	w := &sheetWriter{f: f, cols: cols, styles: map[string]int{}}
	sheet := sheetName(title)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	for format, numFmt := range map[string]string{"int": "#,##0", "num": "#,##0.00", "yuan": "#,##0.00", "kwh": "#,##0",
		"pct": "0.0%", "price": "0.0000", "time": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd"} {
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
		if err != nil {
			return nil, err
		}
		w.styles[format] = id
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return nil, err
	}
	if w.sw, err = f.NewStreamWriter(sheet); err != nil {
		return nil, err
	}
	for i, col := range cols {
		width := max(14, float64(len([]rune(col.Header)))*2+2)
		if err := w.sw.SetColWidth(i+1, i+1, width); err != nil {
			return nil, err
		}
	}
	if err := w.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	hdr := make([]any, len(cols))
	for i, col := range cols {
		hdr[i] = excelize.Cell{StyleID: head, Value: col.Header}
	}
	return w, w.sw.SetRow("A1", hdr)
}

// add writes one row.
func (w *sheetWriter) add(row, whole map[string]any) error {
	vals := make([]any, len(w.cols))
	for i, col := range w.cols {
		vals[i] = cell(col, row, whole, w.styles)
	}
	w.n++
	return w.sw.SetRow("A"+strconv.Itoa(w.n+1), vals)
}

// cell is one value as its column writes it.
func cell(col exportCol, row, whole map[string]any, styles map[string]int) any {
	var v any
	if col.Value != nil {
		v = col.Value(row, whole)
	} else {
		v = row[col.Field]
	}
	if v == nil || v == "" {
		return nil
	}
	format := col.Format
	if table, ok := strings.CutPrefix(format, "label:"); ok {
		s := text(v)
		if l, ok := exportLabels[table][s]; ok {
			return l
		}
		return s
	}
	switch format {
	case "int", "num", "yuan", "kwh", "pct", "price":
		if n, ok := number(v); ok {
			return excelize.Cell{StyleID: styles[format], Value: n}
		}
	case "time", "date":
		if s, ok := v.(string); ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t, err = time.Parse(time.DateOnly, s)
			}
			if err != nil || t.IsZero() || t.Year() < 1900 {
				return s
			}
			// Excel has no time zones: the wall clock in China.
			wall := t.In(exportZone)
			wall = time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)
			return excelize.Cell{StyleID: styles[format], Value: wall}
		}
	}
	return text(v)
}

// sheetName is title as a sheet name (at most 31 characters, none of []:*?/\).
func sheetName(title string) string {
	title = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, title)
	if r := []rune(title); len(r) > 31 {
		title = string(r[:31])
	}
	if title == "" {
		title = "export"
	}
	return title
}

// describe adds a sheet saying what the export holds: the route and its
// query, the row count, who exported it, when and where.
func describe(f *excelize.File, title, path string, c *gin.Context, n int) error {
	const sheet = "导出说明"
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	q := c.Request.URL.Query()
	q.Del("path")
	p := who(c)
	lines := [][]any{
		{"内容", title},
		{"接口", path},
		{"筛选条件", q.Encode()},
		{"行数", n},
		{"导出人", p.User.Username + "（" + p.User.Region + "）"},
		{"导出时间", time.Now().In(exportZone).Format("2006-01-02 15:04:05") + "（北京时间）"},
	}
	for i, l := range lines {
		if err := f.SetSheetRow(sheet, "A"+strconv.Itoa(i+1), &l); err != nil {
			return err
		}
	}
	return f.SetColWidth(sheet, "A", "B", 24)
}
