package process

// SetKPIByIndex turns the KPIs' period index on or off (off: every record
// is read, as before the index) and answers the previous setting.
func SetKPIByIndex(on bool) bool { old := kpiByIndex; kpiByIndex = on; return old }
