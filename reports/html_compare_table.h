// The comparison of two runs in the HTML report (the CompareResult of reports/compare.h, made by
// whoever asked for the report, labelled with its base_label and new_label): one row per metric with base, new, the change, its confidence
// interval and the verdict, an arrow for the direction of the change coloured by the verdict
// (red regressed, green improved, grey no significant change), and the overall gate verdict.
#pragma once

#include <string>

#include "reports/compare.h"

namespace callsim::reports {

// <section class="compare" id=ANCHOR> with <table class="compare"> (a <tr class="VERDICT"> per
// row: regressed, improved or no-change) and the gate's verdict naming the regressed gated rows.
std::string CompareSectionHtml(const CompareResult& result, const std::string& anchor);

}  // namespace callsim::reports
