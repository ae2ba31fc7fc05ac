package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"gridcrm/replication"
)

// TestWriteErrors_SayWhetherApplied: a failed write answers 503 (with
// Retry-After) only when nothing was applied, and 504 outcome_unknown,
// naming the record, when it may have been.
func TestWriteErrors_SayWhetherApplied(t *testing.T) {
	gin.SetMode(gin.TestMode)
	cases := []struct {
		err    error
		status int
		code   string
		id     string
	}{
		{replication.ErrNoLeader, 503, codeUnavailable, ""},
		{replication.ErrNotLeader, 503, codeUnavailable, ""},
		{replication.ErrClosed, 503, codeUnavailable, ""},
		{fmt.Errorf("%w: the leader is overloaded", replication.ErrTimeout), 503, codeUnavailable, ""},
		{fmt.Errorf("%w: leadership lost while committing", replication.ErrUnknownOutcome), 504, codeOutcomeUnknown, "cus_1"},
		{fmt.Errorf("%w: forwarding to leader x: EOF", replication.ErrUnknownOutcome), 504, codeOutcomeUnknown, "cus_1"},
		{errors.New("disk on fire"), 500, codeInternal, ""},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		failWrite(c, "cus_1", tc.err)
		var body errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: %v", tc.err, err)
		}
		if w.Code != tc.status || body.Error.Code != tc.code || body.Error.ID != tc.id {
			t.Errorf("%v: answered %d %s id %q, want %d %s id %q", tc.err, w.Code, body.Error.Code, body.Error.ID, tc.status, tc.code, tc.id)
		}
		if got := w.Header().Get("Retry-After"); (tc.status == http.StatusServiceUnavailable) != (got != "") {
			t.Errorf("%v: Retry-After %q", tc.err, got)
		}
	}
	// An import of unknown outcome names its records, the first as id
	// (all or nothing: reading it tells whether the import was applied).
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	failWrite(c, "", fmt.Errorf("%w: leadership lost while committing", replication.ErrUnknownOutcome), "bil_1", "bil_2")
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 504 || body.Error.ID != "bil_1" || strings.Join(body.Error.IDs, ",") != "bil_1,bil_2" {
		t.Errorf("an import of unknown outcome answered %d %s (%v); want 504 naming bil_1 and every id", w.Code, w.Body, err)
	}
}

// TestUnencodable_Answers500: an answer that cannot be encoded (a NaN)
// gets 500 with an error body, not the handler's 200 with an empty body.
func TestUnencodable_Answers500(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(unencodable)
	e.GET("/nan", func(c *gin.Context) { c.JSON(200, map[string]float64{"kwh": math.NaN()}) })
	e.GET("/ok", func(c *gin.Context) { c.JSON(200, map[string]float64{"kwh": 1}) })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/nan", nil))
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); w.Code != 500 || err != nil || body.Error.Code != codeInternal || !strings.Contains(body.Error.Message, "could not be encoded") {
		t.Fatalf("NaN answer: %d %q", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/ok", nil))
	if w.Code != 200 || w.Body.String() != `{"kwh":1}` {
		t.Fatalf("plain answer: %d %q", w.Code, w.Body.String())
	}
}
