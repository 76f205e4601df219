#include "reports/html_table.h"

#include <algorithm>

#include "reports/html_text.h"

namespace callsim::reports {

std::string HtmlTable(const std::vector<std::string>& header, const std::vector<HtmlRow>& rows,
                      const std::string& css_class, const std::vector<size_t>& numeric_columns) {
  auto numeric = [&](size_t c) {
    return std::find(numeric_columns.begin(), numeric_columns.end(), c) != numeric_columns.end();
  };
  std::string out = "<table class=\"" + HtmlEscape(css_class) + "\"><thead><tr>";
  for (size_t c = 0; c < header.size(); ++c) {
    out += std::string(numeric(c) ? "<th class=\"num\">" : "<th>") + HtmlEscape(header[c]) + "</th>";
  }
  out += "</tr></thead><tbody>";
  for (const HtmlRow& row : rows) {
    out += row.css_class.empty() ? "<tr>" : "<tr class=\"" + HtmlEscape(row.css_class) + "\">";
    for (size_t c = 0; c < row.cells_html.size(); ++c) {
      out += std::string(numeric(c) ? "<td class=\"num\">" : "<td>") + row.cells_html[c] + "</td>";
    }
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

}  // namespace callsim::reports
