// Package warning finds abnormal monthly consumption (用电异常预警) for the
// lists the account managers work through. It is pure: monthly kWh in,
// verdicts with their reasons out; no store, no HTTP.
//
// Detect is the monthly warning run's detector: it judges a customer's
// month against the customer's own forecast of it (log kWh on a trend and
// the calendar month over the last 36 months, refitted without past
// anomalies, plus the level of the last quarter) and the spread of the
// customer's own one-step forecast errors (leave-one-out residuals,
// trimmed): a zero after readings, a drop or a rise beyond Config.Z
// deviations and Config.MinChange. A seasonal customer's usual winter
// peak is not a rise; a steady customer's 20% dip is a drop.
//
// Evaluated by TestDetect_InjectedAnomalies on 2,000 generated customers
// with the real seasonal shapes of the shared PJM zones (a derived monthly
// table in testdata/, so the test needs no shared file), scaled, sharpened
// or flattened, trended and noised (2% to 10% a month), one in five with a
// past anomaly in its history; each judged on 12 months, clean or with 0,
// 50% or 70% of its reading: false alarms 2.45% of clean customer-months,
// zeros 100%, 50% drops 99.4%, 30% drops 72.7% (go test -run
// TestDetect_InjectedAnomalies -v ./analytics/warning/ prints them, with
// the rates per noise band: a customer noisy to 10% a month hides half of
// its 30% drops).
//
// Abnormal is the older fixed-threshold check (month on month and year on
// year against a share such as 0.3); it false-alarms on seasonal customers
// and is kept for callers that ask for a threshold explicitly. Churn risk
// is analytics/credit's.
package warning
