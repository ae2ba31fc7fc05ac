package process

import "encoding/json"

// The KPIs and supervision lists from every record (kpi_reference_test.go).
var (
	ProjectKPIsFromRecords   = projectKPIsRecords
	WorkOrderKPIsFromRecords = workOrderKPIsRecords
	OutageKPIsFromRecords    = outageKPIsRecords
	SuperviseFromRecords     = superviseRecords
)

// KPIJSON answers k (ProjectKPIs, WorkOrderKPIs or OutageKPIs) as JSON
// without the groups that count nothing: a read of every record makes a
// group for each region and person it meets, the tallies only for those
// that count in the period.
func KPIJSON(k any) string {
	prune := func(m map[string]any, key string, zero any) {
		z, _ := json.Marshal(zero)
		var zv any
		_ = json.Unmarshal(z, &zv)
		groups, _ := m[key].(map[string]any)
		for id, g := range groups {
			a, _ := json.Marshal(g)
			b, _ := json.Marshal(zv)
			if string(a) == string(b) {
				delete(groups, id)
			}
		}
	}
	raw, _ := json.Marshal(k)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	switch k.(type) {
	case ProjectKPIs:
		prune(m, "by_region", &ProjectKPI{})
		prune(m, "by_manager", &ProjectKPI{})
	case WorkOrderKPIs:
		prune(m, "by_region", newWOKPI())
		prune(m, "by_assignee", newWOKPI())
	case OutageKPIs:
		prune(m, "by_region", &OutageKPI{ByType: map[string]int{}, NonCompliant: []string{}})
	}
	out, _ := json.Marshal(m)
	return string(out)
}
