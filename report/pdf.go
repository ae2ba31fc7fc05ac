package report

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-pdf/fpdf"

	"gridcrm/bigcustomer"
)

// FontCandidates are the CJK font files FindCJKFont tries, in order.
var FontCandidates = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
	"/usr/share/fonts/truetype/arphic/gbsn00lp.ttf",
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
}

// Font is a TrueType font's bytes and where they came from.
type Font struct {
	Name string
	TTF  []byte
}

var (
	fontOnce sync.Once
	fontVal  *Font
)

// FindCJKFont answers the first usable CJK font of FontCandidates (a TTC
// contributes its first face), or nil. It reads the disk once per process.
func FindCJKFont() *Font {
	fontOnce.Do(func() {
		for _, p := range FontCandidates {
			raw, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if strings.HasSuffix(p, ".ttc") {
				if raw, err = firstFace(raw); err != nil {
					continue
				}
			}
			fontVal = &Font{Name: p, TTF: raw}
			return
		}
	})
	return fontVal
}

// firstFace extracts the first font of a TrueType collection into a
// stand-alone TTF: its table directory with the tables copied after it.
func firstFace(ttc []byte) ([]byte, error) {
	if len(ttc) < 16 || string(ttc[:4]) != "ttcf" {
		return nil, errors.New("report: not a TrueType collection")
	}
	off := int(binary.BigEndian.Uint32(ttc[12:16]))
	if off+12 > len(ttc) {
		return nil, errors.New("report: truncated collection")
	}
	n := int(binary.BigEndian.Uint16(ttc[off+4 : off+6]))
	dirLen := 12 + 16*n
	if off+dirLen > len(ttc) {
		return nil, errors.New("report: truncated table directory")
	}
	out := make([]byte, dirLen)
	copy(out, ttc[off:off+dirLen])
	for i := 0; i < n; i++ {
		rec := out[12+16*i:]
		tOff := int(binary.BigEndian.Uint32(rec[8:12]))
		tLen := int(binary.BigEndian.Uint32(rec[12:16]))
		if tOff+tLen > len(ttc) {
			return nil, errors.New("report: table past the end of the collection")
		}
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		binary.BigEndian.PutUint32(rec[8:12], uint32(len(out)))
		out = append(out, ttc[tOff:tOff+tLen]...)
	}
	return out, nil
}

// BulletinPDF renders a bulletin. font nil renders ASCII only. It answers
// the PDF and a note on the font used. created stamps the document (pass
// the bulletin's time, so the same bulletin renders the same bytes).
func BulletinPDF(d *bigcustomer.BulletinData, font *Font, created time.Time) ([]byte, string, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetCatalogSort(true)
	family, note := "Helvetica", "ASCII only: no CJK font found (install fonts-droid-fallback); the HTML carries the Chinese text"
	txt := asciiOnly
	if font != nil {
		pdf.AddUTF8FontFromBytes("cjk", "", font.TTF)
		if pdf.Err() {
			return nil, "", fmt.Errorf("report: font %s: %w", font.Name, pdf.Error())
		}
		family, note, txt = "cjk", font.Name, func(s string) string { return s }
	}
	pdf.SetTitle(txt(d.Title), true)
	pdf.AddPage()
	pdf.SetFont(family, "", 16)
	title := d.Title
	if font == nil {
		title = fmt.Sprintf("Key projects work bulletin, region %s, %s", d.Region, d.Period)
	}
	pdf.MultiCell(0, 9, txt(title), "", "L", false)
	pdf.SetFont(family, "", 10)
	pdf.MultiCell(0, 6, fmt.Sprintf("Region %s, period %s: %d key projects, %d overdue stages.", d.Region, d.Period, len(d.Projects), d.Overdue), "", "L", false)
	section := func(s string) {
		pdf.Ln(3)
		pdf.SetFont(family, "", 13)
		pdf.MultiCell(0, 8, txt(s), "", "L", false)
		pdf.SetFont(family, "", 10)
	}
	line := func(s string) { pdf.MultiCell(0, 5.5, txt(s), "", "L", false) }
	section(pick(font, "一、重点项目进展 Progress", "1. Progress of key projects"))
	for _, p := range d.Projects {
		line(fmt.Sprintf("%s [%s] %s, %d%%, next: %s", p.Name, p.Region, p.Status, p.Progress, pick(font, p.NextStage, "-")))
	}
	section(pick(font, "二、逾期环节 Overdue stages", "2. Overdue stages"))
	for _, p := range d.Projects {
		for _, o := range p.Overdue {
			state := "open"
			if o.DoneOn != "" {
				state = "done " + string(o.DoneOn)
			}
			line(fmt.Sprintf("%s %s: due %s, %d days late, %s", o.Stage, pick(font, o.StageName, ""), o.Due, o.DaysLate, state))
			line("    " + p.Name)
		}
	}
	section(pick(font, "三、存在困难 Difficulties", "3. Difficulties"))
	for _, p := range d.Projects {
		for _, x := range p.Difficulties {
			line(p.Name + ": " + x)
		}
	}
	section(pick(font, "四、服务信息 Service information", "4. Service information"))
	for _, p := range d.Projects {
		for _, x := range p.ServiceInfo {
			line(p.Name + ": " + x)
		}
	}
	for _, s := range d.Services {
		line(fmt.Sprintf("%s %s: %s %s (%s)", s.On, s.Customer, s.Service, pick(font, bigcustomer.VIPServiceNames[s.Service], ""), s.Status))
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, "", fmt.Errorf("report: rendering the PDF: %w", err)
	}
	return buf.Bytes(), note, nil
}

func pick(font *Font, cjk, ascii string) string {
	if font != nil {
		return cjk
	}
	return ascii
}

// asciiOnly drops what a core PDF font cannot show, keeping ASCII.
func asciiOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
