// Package report renders documents the domain builds (bigcustomer.BulletinData)
// into files people read: the monthly work bulletin as one HTML page
// (html.go, html/template) and as PDF, with
// github.com/go-pdf/fpdf (pure Go) and a CJK TrueType font found on the
// machine (Debian: fonts-droid-fallback, fonts-arphic-gbsn00lp, or the
// first face of fonts-wqy-zenhei's TTC). Without any CJK font it still
// renders, in ASCII: the stage and service names in English and Chinese
// text dropped, and says so in the answer; the HTML keeps the Chinese.
//
// It reads font files (FindCJKFont), so it is not part of crm, which does no
// I/O. It does not decide what a bulletin says: bigcustomer.BuildBulletin does.
package report
