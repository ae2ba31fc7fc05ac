package api

import (
	"strings"

	"gridcrm/crm"
)

// The console's 流程 and 大客户 tables that are not collection lists export
// through GET /api/v1/export.xlsx (export.go) with these specs: the
// supervision list and the warnings (every item the filters select, read
// page by page by limit and offset) and the big-customer classification.

func init() {
	step := func(row, _ map[string]any) any {
		s, _ := row["step"].(string)
		if n := crm.StageName(s); n != "" {
			return n
		}
		if n, ok := slaNames[s]; ok {
			return n
		}
		return s
	}
	code := func(field string, names map[string]string) func(row, _ map[string]any) any {
		return func(row, _ map[string]any) any {
			s, _ := row[field].(string)
			if n, ok := names[s]; ok {
				return n
			}
			return s
		}
	}
	item := []exportCol{
		{Field: "type", Header: "类型", Value: code("type", map[string]string{"project_stage": "报装环节", "work_order": "工单时限"})},
		{Field: "title", Header: "名称"}, {Field: "customer_name", Header: "客户"}, {Field: "account_no", Header: "户号"},
		{Field: "region", Header: "区域"}, {Field: "step", Header: "环节/时限", Value: step},
		{Field: "deadline", Header: "期限", Format: "time"}, {Field: "working_days", Header: "工作日", Format: "int"},
		{Field: "level", Header: "督办层级", Value: code("level", tierNames)},
		{Field: "manager_name", Header: "客户经理"}, {Field: "responsible", Header: "责任人"}, {Field: "note", Header: "说明"},
		{Field: "id", Header: "编号"}, {Field: "customer_id", Header: "客户编号"},
	}
	exportSpecs["/api/v1/supervision"] = &exportSpec{Title: "督办清单", Items: "overdue", Offset: true, Cols: item}
	exportSpecs["/api/v1/supervision/warnings"] = &exportSpec{Title: "到期预警", Items: "warnings", Offset: true, Cols: item}
	figure := func(name string) func(row, _ map[string]any) any {
		return func(row, _ map[string]any) any {
			f, _ := row["figures"].(map[string]any)
			return f[name]
		}
	}
	exportSpecs["/api/v1/classification"] = &exportSpec{Title: "大客户分级", Items: "items", Cols: []exportCol{
		{Field: "account_no", Header: "户号"}, {Field: "name", Header: "名称"}, {Field: "region", Header: "区域"},
		{Field: "category", Header: "类别", Format: "label:category"},
		{Field: "class", Header: "分类", Value: code("class", map[string]string{"big": "大客户", "ordinary": "普通"})},
		{Field: "grade", Header: "等级", Value: code("grade", map[string]string{"core": "核心", "key": "重点", "general": "一般"})},
		{Field: "annual_kwh", Header: "近12个月电量（千瓦时）", Format: "kwh", Value: figure("annual_kwh")},
		{Field: "monthly_bill", Header: "月均电费（元）", Format: "yuan", Value: figure("monthly_bill")},
		{Field: "voltage_kv", Header: "电压（千伏）", Format: "num", Value: figure("voltage_kv")},
		{Field: "reasons", Header: "依据", Value: func(row, _ map[string]any) any {
			var out []string
			rs, _ := row["reasons"].([]any)
			for _, r := range rs {
				if s, ok := r.(string); ok {
					out = append(out, s)
				}
			}
			return strings.Join(out, "；")
		}},
		{Field: "customer_id", Header: "客户编号"},
	}}
}

var (
	slaNames  = map[string]string{"contact": "联系时限", "arrival": "到达现场时限", "restore": "修复时限", "answer": "答复时限"}
	tierNames = map[string]string{"county": "县级", "city": "地市级", "province": "省级"}
)
