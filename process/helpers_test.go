package process_test

// The regions these tests write in (the shared helpers are crm/crmtest's).
const (
	county = "320722" // 东海县
	city   = "3207"   // 连云港市
	other  = "320723" // 灌云县
)
