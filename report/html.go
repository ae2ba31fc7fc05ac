package report

import (
	"bytes"
	"html/template"

	"gridcrm/bigcustomer"
	"gridcrm/crm"
)

var bulletinHTML = template.Must(template.New("bulletin").Funcs(template.FuncMap{
	"stage": func(s string) string { return crm.StageName(s) },
	"svc":   func(s string) string { return bigcustomer.VIPServiceNames[s] },
}).Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 8px}.late{color:#b00}</style></head>
<body>
<h1>{{.Title}}</h1>
<p>区域 {{.Region}}，统计期 {{.Period}}：重点项目 {{len .Projects}} 个，逾期环节 {{.Overdue}} 个。</p>
<h2>一、重点项目进展</h2>
<table><tr><th>项目</th><th>区域</th><th>状态</th><th>进度</th><th>下一环节</th></tr>
{{range .Projects}}<tr><td>{{.Name}}</td><td>{{.Region}}</td><td>{{.Status}}</td><td>{{.Progress}}%</td><td>{{.NextStage}}</td></tr>
{{end}}</table>
<h2>二、逾期环节</h2>
<ul class="late">{{range $p := .Projects}}{{range .Overdue}}<li>{{$p.Name}}：{{.StageName}}（{{.Stage}}）期限 {{.Due}}，逾期 {{.DaysLate}} 天{{if .DoneOn}}，已于 {{.DoneOn}} 完成{{else}}，尚未完成{{end}}</li>
{{end}}{{end}}</ul>
<h2>三、存在困难</h2>
<ul>{{range $p := .Projects}}{{range .Difficulties}}<li>{{$p.Name}}：{{.}}</li>
{{end}}{{end}}</ul>
<h2>四、服务信息</h2>
<ul>{{range $p := .Projects}}{{range .ServiceInfo}}<li>{{$p.Name}}：{{.}}</li>
{{end}}{{end}}{{range .Services}}<li>{{.On}} {{.Customer}}：{{svc .Service}}（{{.Title}}，{{.Status}}）</li>
{{end}}</ul>
</body></html>
`))

// BulletinHTML renders a bulletin as one HTML page, in Chinese.
func BulletinHTML(d *bigcustomer.BulletinData) (string, error) {
	var buf bytes.Buffer
	if err := bulletinHTML.Execute(&buf, d); err != nil {
		return "", err
	}
	return buf.String(), nil
}
