package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestCheckInput: the input rules, each refused naming the field by its
// path, and what they let through.
func TestCheckInput(t *testing.T) {
	many := "[" + strings.Repeat(`"t",`, MaxArrayLen) + `"t"]`
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	for _, tc := range []struct {
		name, body, field, msg string // field "-": accepted
	}{
		{"plain", `{"name":"徐州钢铁","tags":["a","b"],"n":1.5,"ok":true,"x":null,"o":{}}`, "-", ""},
		{"text with line breaks and tabs", `{"notes":"line 1\nline 2\r\n\tend"}`, "-", ""},
		{"U+FFFD spelled in UTF-8", "{\"notes\":\"\xef\xbf\xbd\"}", "-", ""},
		{"surrogate pair", `{"notes":"\ud83d\ude00"}`, "-", ""},
		{"LRM is not an override", "{\"name\":\"a\u200eb\"}", "-", ""},
		{"10,000 elements", `{"ids":` + strings.Replace(many, `"t",`, "", 1) + `}`, "-", ""},
		{"malformed: left to the decoder", `{"name":`, "-", ""},

		{"invalid UTF-8", "{\"name\":\"a\xffb\"}", "name", "not valid UTF-8"},
		{"invalid UTF-8 in a key", "{\"na\xc3me\":1}", "", "not valid UTF-8"},
		{"lone high surrogate", `{"notes":"\ud83d"}`, "notes", "lone UTF-16 surrogate"},
		{"lone low surrogate", `{"notes":"x\ude00y"}`, "notes", "lone UTF-16 surrogate"},
		{"duplicate key", `{"name":"a","region":"3207","name":"b"}`, "name", "appears twice"},
		{"duplicate key nested", `{"contacts":[{"a":1},{"a":1,"a":2}]}`, "contacts[1].a", "appears twice"},
		{"duplicate key spelled with an escape", `{"name":"a","n\u0061me":"b"}`, "name", "appears twice"},
		{"NUL escape", `{"address":"a\u0000b"}`, "address", "control character U+0000"},
		{"escape character", `{"address":"\u001b[31mred"}`, "address", "control character U+001B"},
		{"C1 control", "{\"address\":\"a\u0085\"}", "address", "control character U+0085"},
		{"DEL", `{"address":"a\u007f"}`, "address", "control character U+007F"},
		{"line break in a name", `{"name":"a\nb"}`, "name", "a name may not"},
		{"tab in a username", `{"username":"a\tb"}`, "username", "a name may not"},
		{"line break in contact_name", `{"contact_name":"a\rb"}`, "contact_name", "a name may not"},
		{"RLO in a name", "{\"name\":\"abc\u202egpj.exe\"}", "name", "U+202E"},
		{"LRE escaped", `{"address":"\u202a"}`, "address", "U+202A"},
		{"RLI in a tag", "{\"tags\":[\"ok\",\"\u2067x\"]}", "tags[1]", "U+2067"},
		{"PDI", "{\"notes\":\"\u2069\"}", "notes", "U+2069"},
		{"10,001 elements", `{"tags":` + many + `}`, "tags", "more than 10000 elements"},
		{"too deep", deep, strings.TrimSuffix(strings.Repeat("a.", MaxDepth), "."), "deeper than 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := checkInput([]byte(tc.body), "")
			if tc.field == "-" {
				if e != nil {
					t.Fatalf("refused: %v", e)
				}
				return
			}
			if e == nil {
				t.Fatalf("accepted; want refused naming %q", tc.field)
			}
			if e.Code != "invalid" || e.Field != tc.field || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got %s %q %q; want invalid %q containing %q", e.Code, e.Field, e.Message, tc.field, tc.msg)
			}
		})
	}
	if e := checkInput([]byte(`{"name":"a","name":"b"}`), "rows[3]"); e == nil || e.Field != "rows[3].name" {
		t.Errorf("an import row names its field rows[3].name: %v", e)
	}
}

// TestCheckJSONType: JSON routes take application/json and +json types in
// UTF-8, and refuse anything else with 415 naming the header.
func TestCheckJSONType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "Application/JSON; charset=UTF-8": true,
		"application/merge-patch+json": true,
		"":                             false, "text/plain": false, "application/x-www-form-urlencoded": false,
		"multipart/form-data; boundary=x": false, "application/json; charset=latin1": false, "application/jsonx": false,
		"text/json": false, "application/json;;": false,
	} {
		gin.SetMode(gin.ReleaseMode)
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/", strings.NewReader("{}"))
		if ct != "" {
			c.Request.Header.Set("Content-Type", ct)
		}
		e := checkJSONType(c)
		if ok != (e == nil) {
			t.Errorf("%q: %v; want accepted %v", ct, e, ok)
		}
		if e != nil && (e.Code != codeUnsupported || e.Field != "Content-Type" || !strings.Contains(e.Message, "application/json")) {
			t.Errorf("%q: %+v; want 415 naming Content-Type and application/json", ct, e)
		}
	}
}
