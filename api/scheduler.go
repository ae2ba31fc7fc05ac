package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gridcrm/analytics/forecast"
	"gridcrm/analytics/records"
	"gridcrm/crm"
)

// The monthly analytics schedule: the leader of a region runs the credit
// grades and then the warnings of the previous month, once the month's
// bills are in (from ScheduleConfig.Day of the month on), and records
// each run as an analytics_runs record, so that a month already run is
// skipped with one key read (after a restart or a change of leader too).
// A run is idempotent on its own as well: a customer already graded or
// warned for the month is skipped.

// ScheduleConfig configures the monthly analytics runs.
type ScheduleConfig struct {
	// Disabled turns the schedule off: the runs are then started by hand
	// (POST /api/v1/credit/grades/run and /api/v1/warnings/run). Default
	// false (on).
	Disabled bool `yaml:"disabled"`
	// Day is the day of the month from which the previous month is run
	// (its bills are issued in the first days). Default 5.
	Day int `yaml:"day"`
	// Every is how often the leader checks whether a run is due. Default
	// 1h.
	Every time.Duration `yaml:"every"`
}

// DefaultScheduleConfig is the schedule a node runs unless told otherwise.
func DefaultScheduleConfig() ScheduleConfig {
	return ScheduleConfig{Day: 5, Every: time.Hour}
}

// ErrSchedule matches every error ScheduleConfig.Validate answers.
var ErrSchedule = errors.New("api: bad analytics schedule")

// Validate reports a field out of range, wrapping ErrSchedule. A zero
// field takes its default.
func (c ScheduleConfig) Validate() error {
	switch {
	case c.Day < 0 || c.Day > 28:
		return fmt.Errorf("%w: day %d: want 1..28", ErrSchedule, c.Day)
	case c.Every < 0 || (c.Every > 0 && c.Every < time.Second):
		return fmt.Errorf("%w: every %v: want at least 1s", ErrSchedule, c.Every)
	}
	return nil
}

func (c ScheduleConfig) withDefaults() ScheduleConfig {
	d := DefaultScheduleConfig()
	if c.Day == 0 {
		c.Day = d.Day
	}
	if c.Every == 0 {
		c.Every = d.Every
	}
	return c
}

// ScheduleOutcome is what one check of the schedule did.
type ScheduleOutcome struct {
	Period   string      // the month due, "" before Day or when not leader
	Leader   bool        // this node led the region at the check
	Grades   *GradeRun   // the grade run, nil if skipped (done or not due)
	Warnings *WarningRun // the warning run, nil if skipped
}

// RunSchedule checks the schedule every cfg.Every, the first one cfg.Every
// after it starts, until ctx ends (the node's goroutine; it returns at once
// when disabled). A failing check is logged and retried at the next.
func (s *Server) RunSchedule(ctx context.Context, cfg ScheduleConfig) {
	cfg = cfg.withDefaults()
	if cfg.Disabled {
		return
	}
	t := time.NewTicker(cfg.Every)
	defer t.Stop()
	for {
		select { // the first check one period after start: a starting node is rarely the leader yet
		case <-ctx.Done():
			return
		case <-t.C:
		}
		out, err := s.ScheduleOnce(ctx, cfg, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.cfg.Logger.Warn("analytics schedule", "period", out.Period, "err", err)
		case out.Grades != nil || out.Warnings != nil:
			s.cfg.Logger.Info("analytics schedule ran", "period", out.Period, "grades", out.Grades != nil, "warnings", out.Warnings != nil)
		}
	}
}

// ScheduleOnce runs what is due at now: on the region's leader, from
// cfg.Day on, the grades and then the warnings of the previous month,
// each unless an analytics_runs record says it is done; each run done is
// recorded.
func (s *Server) ScheduleOnce(ctx context.Context, cfg ScheduleConfig, now time.Time) (ScheduleOutcome, error) {
	cfg = cfg.withDefaults()
	var out ScheduleOutcome
	if cfg.Disabled {
		return out, nil
	}
	if out.Leader = s.b.Cluster().State == "Leader"; !out.Leader {
		return out, nil
	}
	if now.Day() < cfg.Day {
		return out, nil
	}
	period := forecast.MonthOf(now) - 1
	out.Period = period.String()
	if err := s.b.ReadBarrier(ctx); err != nil {
		return out, err
	}
	propose := s.systemPropose(ctx, crm.SystemActor) // the node applies the system's writes whoever is logged in
	record := func(kind string, written, skipped int) error {
		return s.recordRun(propose, kind, out.Period, written, skipped)
	}
	gradesDone, err := records.RunDone(s.b.Reader(), s.cfg.Region, records.RunGrades, out.Period)
	if err != nil {
		return out, err
	}
	warningsDone, err := records.RunDone(s.b.Reader(), s.cfg.Region, records.RunWarnings, out.Period)
	if err != nil || (gradesDone && warningsDone) {
		return out, err
	}
	// One pass does both runs (runMonth): each customer's bills read once.
	g, w, err := s.runMonth(period, !gradesDone, !warningsDone, propose)
	if err != nil {
		return out, fmt.Errorf("analytics of %s: %w", out.Period, err)
	}
	if !gradesDone {
		out.Grades = &g
		if err := record(records.RunGrades, g.Graded, g.Skipped); err != nil {
			return out, err
		}
	}
	if warningsDone {
		return out, nil
	}
	out.Warnings = &w
	return out, record(records.RunWarnings, w.Abnormal+w.Churn, w.Skipped)
}

// recordRun writes the analytics_runs record of a run done here, unless
// the month's run of kind is already recorded (a second run by hand).
func (s *Server) recordRun(propose proposeFunc, kind, period string, written, skipped int) error {
	if done, err := records.RunDone(s.b.Reader(), s.cfg.Region, kind, period); err != nil || done {
		return err
	}
	return propose(&crm.Command{Op: crm.OpCreate, Collection: "analytics_runs", ID: crm.NewID("arn", time.Now()),
		Body: mustJSON(records.AnalyticsRun{Region: s.cfg.Region, Kind: kind, Period: period, Written: written, Skipped: skipped})})
}
