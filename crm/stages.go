package crm

import (
	"slices"
	"time"

	"gridcrm/crm/workday"
)

// Connection-project stages (业扩报装 环节), in the order they run.
const (
	StageAcceptance   = "acceptance"              // 受理
	StageSurvey       = "site_survey"             // 现场查勘
	StageSupplyPlan   = "supply_plan"             // 供电方案答复
	StageDesignReview = "design_review"           // 图纸审查
	StageIntermediate = "intermediate_inspection" // 中间检查
	StageCompletion   = "completion_acceptance"   // 竣工验收
	StageEnergise     = "energisation"            // 装表接电 / 启动投运
)

// Stages lists every stage in running order. It is the one list of
// connection stages: the rule sets' paths and limits and the projects
// (package process) and the key projects of the four ones (package
// bigcustomer) all name their stages from it; it is crm's because both
// programmes use it and neither imports the other.
var Stages = []string{StageAcceptance, StageSurvey, StageSupplyPlan, StageDesignReview, StageIntermediate, StageCompletion, StageEnergise}

// StageNames are the stages' Chinese names, for reports.
var StageNames = map[string]string{
	StageAcceptance: "受理", StageSurvey: "现场查勘", StageSupplyPlan: "供电方案答复", StageDesignReview: "图纸审查",
	StageIntermediate: "中间检查", StageCompletion: "竣工验收", StageEnergise: "装表接电",
}

// stageAliases are older names of stages that records may still hold: the
// key projects named acceptance "accepted" while they kept a list of their
// own. A key project may still say "accepted" (it is stored and answered
// as written); it is the stage StageAcceptance.
var stageAliases = map[string]string{"accepted": StageAcceptance}

// CanonicalStage answers the stage name names in Stages: name itself, or
// the stage an older name (stageAliases) stands for; "" for no stage.
func CanonicalStage(name string) string {
	if a, ok := stageAliases[name]; ok {
		return a
	}
	if slices.Contains(Stages, name) {
		return name
	}
	return ""
}

// StageName answers the Chinese name of a stage or of an older name of
// one, "" for no stage.
func StageName(name string) string { return StageNames[CanonicalStage(name)] }

// dayOf is the CST calendar day of t.
func dayOf(t time.Time) Date { return Date(t.In(workday.CST).Format(time.DateOnly)) }
