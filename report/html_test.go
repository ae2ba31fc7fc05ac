package report_test

import (
	"strings"
	"testing"

	"gridcrm/bigcustomer"
	"gridcrm/report"
)

func TestBulletinHTML(t *testing.T) {
	d := sampleBulletin()
	d.Projects[0].Overdue = append(d.Projects[0].Overdue,
		bigcustomer.OverdueStage{Stage: "design_review", StageName: "图纸审查", Due: "2026-01-28", DoneOn: "2026-01-31", DaysLate: 3})
	html, err := report.BulletinHTML(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<title>东海县 重点项目供电服务工作简报（2026-01）</title>", "现场查勘（site_survey）期限 2026-01-12，逾期 19 天，尚未完成",
		"图纸审查（design_review）期限 2026-01-28，逾期 3 天，已于 2026-01-31 完成", "线路通道协调困难", "开通绿色通道",
		"东海县华润水泥有限公司：定期安全检查（安全检查，done）", "区域 320722"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q:\n%s", want, html)
		}
	}
	d.Projects[0].Name = `<script>alert("x")</script>`
	if html, _ := report.BulletinHTML(d); strings.Contains(html, "<script>") {
		t.Errorf("HTML does not escape a project's name")
	}
}
