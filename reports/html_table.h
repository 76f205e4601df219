// Tables in the HTML report. Cells hold HTML their caller already escaped (HtmlText), so a table
// can carry a badge or a link; the header is plain text and escaped here.
#pragma once

#include <string>
#include <vector>

namespace callsim::reports {

struct HtmlRow {
  std::vector<std::string> cells_html;
  std::string css_class;  // on the <tr>; empty for none
};

// <table class="CSS"><thead>..</thead><tbody>..</tbody></table>; numeric columns are styled by
// the report's CSS (td.num), marked by `numeric_columns` (indices).
std::string HtmlTable(const std::vector<std::string>& header, const std::vector<HtmlRow>& rows,
                      const std::string& css_class, const std::vector<size_t>& numeric_columns = {});

}  // namespace callsim::reports
