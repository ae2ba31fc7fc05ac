package report_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridcrm/bigcustomer"
	"gridcrm/report"
)

func sampleBulletin() *bigcustomer.BulletinData {
	return &bigcustomer.BulletinData{Region: "320722", Period: "2026-01", Title: "东海县 重点项目供电服务工作简报（2026-01）", Overdue: 1,
		Projects: []bigcustomer.ProjectLine{{ID: "kpj_1", Name: "硅材料产业园 110kV 新装", Region: "320722", Kind: "government_key", Status: "active", Progress: 30,
			NextStage: "现场查勘", Overdue: []bigcustomer.OverdueStage{{Stage: "site_survey", StageName: "现场查勘", Due: "2026-01-12", DaysLate: 19}},
			Difficulties: []string{"线路通道协调困难"}, ServiceInfo: []string{"开通绿色通道"}}},
		Services: []bigcustomer.ServiceLine{{Customer: "东海县华润水泥有限公司", Service: "safety_inspection", Title: "安全检查", On: "2026-01-20", Status: "done"}}}
}

func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed (poppler-utils; `make test-deps` installs it): the PDF is not read back")
	}
	p := filepath.Join(t.TempDir(), "b.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext could not read the PDF: %v: %s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestBulletinPDF_CJK(t *testing.T) {
	font := report.FindCJKFont()
	if font == nil {
		t.Skip("no CJK font installed (fonts-droid-fallback or fonts-wqy-zenhei; `make test-deps` installs one)")
	}
	at := time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
	pdf, note, err := report.BulletinPDF(sampleBulletin(), font, at)
	if err != nil {
		t.Fatal(err)
	}
	if note != font.Name || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("note %q, %d bytes starting %.8q", note, len(pdf), pdf)
	}
	again, _, _ := report.BulletinPDF(sampleBulletin(), font, at)
	if !bytes.Equal(pdf, again) {
		t.Errorf("the same bulletin renders different bytes")
	}
	t.Logf("%s: %d bytes", font.Name, len(pdf))
	text := pdfToText(t, pdf)
	for _, want := range []string{"东海县", "现场查勘", "site_survey", "19 days late", "线路通道协调困难", "开通绿色通道", "东海县华润水泥有限公司"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
}

func TestBulletinPDF_ASCIIFallback(t *testing.T) {
	pdf, note, err := report.BulletinPDF(sampleBulletin(), nil, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(note, "ASCII only") {
		t.Errorf("note %q", note)
	}
	text := pdfToText(t, pdf)
	for _, want := range []string{"region 320722, 2026-01", "site_survey", "19 days late", "110kV"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
}

func TestFirstFaceOfCollection(t *testing.T) {
	const ttc = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
	if _, err := os.Stat(ttc); err != nil {
		t.Skip("fonts-wqy-zenhei not installed: no TTC to extract from")
	}
	pdf, _, err := report.BulletinPDF(sampleBulletin(), report.MustTTCFace(t, ttc), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfToText(t, pdf); !strings.Contains(text, "现场查勘") {
		t.Errorf("PDF set in the TTC's first face lacks the Chinese text:\n%s", text)
	}
}
