// Package warning finds abnormal month-on-month and year-on-year changes
// in a customer's monthly consumption (用电异常预警), for the lists the
// account managers work through. It is pure: monthly kWh in, flags with
// their reasons out; no store, no HTTP.
//
// A month is flagged when its kWh is zero after a month that was not
// (reason "zero"), or when it differs from the month before
// (drop_mom / rise_mom) or from the same month a year before
// (drop_yoy / rise_yoy) by more than the threshold, as a share of the
// earlier month (0.3: down 30% or more, or up 30% or more). A month
// whose earlier month is missing or zero is not compared on that side.
//
// What it is not: not the detector against the customer's own
// forecast and volatility (a fixed threshold false-alarms on seasonal
// customers month on month; year on year is the steadier signal), and no
// evaluation on injected anomalies yet. Churn risk is analytics/credit's.
package warning
