// The HTML report's one stylesheet, inlined into every report: system fonts only (nothing to
// fetch), light colours that print, and the chart classes the SVG builders use (bar, marker,
// cdf-line, stage st0..st6, span caller-speech / agent-speech / tool DECISION, barge-in,
// series s0..s3).
#pragma once

#include <string_view>

namespace callsim::reports {

inline constexpr std::string_view kReportCss = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
header,main,nav.toc{max-width:1320px;margin:0 auto;padding:0 24px}
header{padding-top:16px}h1{font-size:22px;margin:8px 0}
h2{font-size:19px;margin:0 0 10px}h2 small{font-weight:normal;color:#59636e;font-size:13px}
h3{font-size:15px;margin:18px 0 6px}h4{font-size:14px;margin:0 0 6px}
section{background:#fff;border:1px solid #d1d9e0;border-radius:6px;padding:16px 20px;margin:16px 0}
nav.toc{margin-top:8px}nav.toc h2{font-size:15px}nav.toc ol{margin:0;padding-left:22px}
a{color:#0969da}.note{color:#59636e;margin:4px 0}.more{color:#59636e;font-style:italic}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}
dl.facts dt{color:#59636e}dl.facts dd{margin:0}
p.replay code{background:#f6f8fa;border:1px solid #d1d9e0;border-radius:4px;padding:2px 6px;word-break:break-all}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid #d1d9e0;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fail td{background:#ffebe9}tr.pass td:first-child{color:#1a7f37}tr.fail td:first-child{color:#cf222e}
tr.knee td{font-weight:600}
tr.regressed td{background:#ffebe9}tr.regressed .arrow{color:#cf222e}
tr.improved td{background:#dafbe1}tr.improved .arrow{color:#1a7f37}tr.no-change .arrow{color:#818b98}
p.verdict.fail{color:#cf222e;font-weight:600}p.verdict.pass{color:#1a7f37;font-weight:600}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#eaeef2}
.badge.pass,.badge.completed{background:#dafbe1;color:#1a7f37}
.badge.fail,.badge.failed,.badge.dropped,.badge.aborted{background:#ffebe9;color:#cf222e}
figure{margin:6px 0}figcaption{color:#59636e;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{max-width:100%;height:auto;background:#fff;font-size:11px}
svg.chart text{fill:#1f2328}svg.chart .axis line{stroke:#818b98}svg.chart .grid{stroke:#eaeef2}
svg.chart .label{fill:#59636e}
svg .bar{fill:#54aeff}svg .cdf-line{fill:none;stroke:#0969da;stroke-width:2}
svg .marker line{stroke:#cf222e;stroke-dasharray:4 3}
svg .marker text{fill:#cf222e;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px}
svg .stage.st0{fill:#8250df}svg .stage.st1{fill:#bf3989}svg .stage.st2{fill:#0969da}
svg .stage.st3{fill:#54aeff}svg .stage.st4{fill:#1a7f37}svg .stage.st5{fill:#9a6700}
svg .stage.st6{fill:#818b98}
svg .span.caller-speech{fill:#54aeff}svg .span.agent-speech{fill:#4ac26b}
svg .span.interrupted{fill:#fd8c73}svg .span.tool{fill:#c297ff}
svg .span.tool.blocked,svg .span.tool.failed,svg .span.tool.declined{fill:#ff8182}
svg .in-span{font-size:10px;fill:#1f2328}svg .barge-in{stroke:#cf222e;stroke-width:2}
svg .series path{fill:none;stroke-width:2}
svg .s0 path{stroke:#0969da}svg .s0 .dot,svg .s0 text{fill:#0969da}
svg .s1 path{stroke:#bf8700}svg .s1 .dot,svg .s1 text{fill:#bf8700}
svg .s2 path{stroke:#cf222e}svg .s2 .dot,svg .s2 text{fill:#cf222e}
svg .s3 path{stroke:#1a7f37}svg .s3 .dot,svg .s3 text{fill:#1a7f37}
.legend{color:#59636e;font-size:12px}.swatch{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
.swatch.caller-speech{background:#54aeff}.swatch.agent-speech{background:#4ac26b}.swatch.interrupted{background:#fd8c73}
.swatch.tool{background:#c297ff}.swatch.blocked{background:#ff8182}.swatch.barge-in{background:#cf222e;width:3px}
article.failed-call{border-top:1px solid #d1d9e0;padding:10px 0}
)css";

}  // namespace callsim::reports
