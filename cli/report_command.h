// `callsim report DB[#RUN_ID]... [--text | --html FILE] [--sweep [ID]]`: the reports of stored
// runs, read back from their databases. Each argument is a database (its last run) or DB#RUN_ID;
// --text (the default) prints each run's summary, --html writes one self-contained HTML file
// (reports/html_report.h), --sweep adds a sweep of the first database (its latest without an id).
// Nothing is run or written to the databases.
#pragma once

#include <string>
#include <vector>

namespace callsim::cli {

struct ReportFlags {
  std::vector<std::string> runs;  // "DB" or "DB#RUN_ID", in order
  std::string html;               // the HTML file; empty: text
  bool html_given = false;
  bool sweep_given = false;
  std::string sweep_text;  // the sweep id after --sweep; empty: the latest
};

// Exit 0 with the report written; 2 after a one-line error ("callsim: report: ...") for a
// missing database, a run or sweep that is not there, a malformed argument or an output file
// that cannot be written. Throws harness::StoreError if a database cannot be read.
int Report(const ReportFlags& flags);

}  // namespace callsim::cli
