#include "reports/html_report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reports/html_compare_table.h"
#include "tests/reports/occurrences.h"
#include "tests/reports/store_fixture.h"

namespace callsim::reports {
namespace {

using harness::CallRow;
using harness::EventRow;
using harness::ExpectationRow;
using harness::RunInfo;
using harness::TurnRow;

using testing::Count;

class HtmlReportTest : public testing::StoreFixture {
 protected:
  int64_t Begin(const std::string& scenario) {
    RunInfo run;
    run.scenario = scenario;
    run.seed = 42;
    return store_->BeginRun(run);
  }

  // A call of `scenario` with one answered turn of `latency_ms`; a failed one has a failed
  // expectation and the events of a short timeline.
  void AddCall(int64_t run_id, int64_t call_id, const std::string& scenario, bool passed,
               double latency_ms, const std::string& detail = "expected \"shipped\"",
               const std::string& recording = "") {
    CallRow c;
    c.recording = recording;
    c.run_id = run_id;
    c.call_id = call_id;
    c.scenario = scenario;
    c.ended_ms = 5000;
    c.task_completed = passed;
    TurnRow t;
    t.turn_index = 1;
    t.reference_text = "where is my order";
    t.hypothesis_text = "where is my";
    t.ref_words = 4;
    t.deletions = passed ? 0 : 1;
    t.turn_latency_ms = latency_ms;
    std::vector<ExpectationRow> expectations = {
        {.turn_index = 1, .kind = "agent_says", .passed = passed, .detail = detail}};
    std::vector<EventRow> events = {
        {.t_ms = 100, .source = "caller", .kind = "utterance_start", .detail_json = "{\"turn\":1}"},
        {.t_ms = 900, .source = "caller", .kind = "utterance_end", .detail_json = "{\"turn\":1}"},
        {.t_ms = 2000, .source = "agent", .kind = "speech_start", .detail_json = "{\"kind\":\"answer\"}"},
        {.t_ms = 2000, .source = "agent", .kind = "turn_spans",
         .detail_json = "{\"endpointing_ms\":500,\"stt_final_ms\":100,\"response_ms\":900}"},
        {.t_ms = 2100, .source = "caller", .kind = "reply_onset", .detail_json = "{\"turn\":1}"},
        {.t_ms = 4000, .source = "agent", .kind = "speech_end", .detail_json = "{\"interrupted\":false}"}};
    for (size_t i = 0; i < events.size(); ++i) events[i].seq = static_cast<int64_t>(i);
    store_->AddCall(c, {t}, expectations, events);
  }

  std::string Render(const std::vector<int64_t>& run_ids, FailedCallsOptions options = {}) {
    HtmlReportInput input;
    for (const int64_t id : run_ids) input.runs.push_back({store_.get(), id, "runs.db#" + std::to_string(id)});
    input.failed_calls = options;
    return RenderHtmlReport(input);
  }
};

TEST_F(HtmlReportTest, NothingInTheFileFetchesAnything) {
  const int64_t run = Begin("order_status");
  AddCall(run, 1, "order_status", false, 1500);
  store_->FinishRun(run, "completed", "h", 99);
  const std::string html = Render({run});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  for (const char* fetcher : {"<script", "<link", "<img", "<iframe", "src=", "href=\"http",
                              "url(", "@import"}) {
    EXPECT_EQ(html.find(fetcher), std::string::npos) << fetcher;
  }
  // The only URL is the SVG namespace, which names and never loads.
  EXPECT_EQ(Count(html, "https:"), 0u);
  EXPECT_EQ(Count(html, "http:"), Count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_GE(Count(html, "<svg "), 3u);
}

TEST_F(HtmlReportTest, StoredTextIsEscapedEverywhere) {
  const int64_t run = Begin("<script>alert(1)</script>.yaml");
  AddCall(run, 1, "<img src=x onerror=alert(2)>", false, 1500, "heard \"</td><script>x()</script>\"");
  store_->FinishRun(run, "completed", "h", 99);
  const std::string html = Render({run});
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;.yaml"), std::string::npos);
  EXPECT_NE(html.find("heard &quot;&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;&quot;"),
            std::string::npos);
}

TEST_F(HtmlReportTest, FailedCallsAreCappedWithATimelineEachAndACountOfTheRest) {
  const int64_t run = Begin("order_status");
  for (int64_t id = 1; id <= 8; ++id) AddCall(run, id, "order_status", id % 4 == 0, 1000 + id);
  store_->FinishRun(run, "completed", "h", 99);
  const std::string html = Render({run}, FailedCallsOptions{.max_calls = 4, .recordings_url_prefix = ""});
  // Six calls failed (all but 4 and 8); four are shown.
  EXPECT_NE(html.find("6 calls did not complete their task"), std::string::npos);
  EXPECT_EQ(Count(html, "<article class=\"failed-call\""), 4u);
  EXPECT_EQ(Count(html, "class=\"chart timeline\""), 4u);
  EXPECT_NE(html.find("<span class=\"more-calls\">2</span> more"), std::string::npos);
  EXPECT_NE(html.find("data-call=\"5\""), std::string::npos);
  EXPECT_EQ(html.find("<article class=\"failed-call\" data-call=\"6\""), std::string::npos);
}

TEST_F(HtmlReportTest, ARecordedFailedCallHasAPlayerThatFetchesNothingUntilPlayed) {
  const int64_t run = Begin("order_status");
  AddCall(run, 1, "order_status", false, 1500, "x", "runs.recordings/run-1/call-1.wav");
  AddCall(run, 2, "order_status", false, 1500, "x", "odd \"dir\"/call <2>.wav");
  AddCall(run, 3, "order_status", false, 1500);
  store_->FinishRun(run, "completed", "h", 99);
  // The report beside the database: the stored path as it is.
  HtmlReportInput input;
  input.runs.push_back({store_.get(), run, "runs.db#1"});
  input.output_dir = dir_;
  std::string html = RenderHtmlReport(input);
  EXPECT_NE(html.find("<audio controls preload=\"none\" src=\"runs.recordings/run-1/call-1.wav\">"),
            std::string::npos);
  // A stored path cannot leave its attribute: percent-encoded.
  EXPECT_NE(html.find("src=\"odd%20%22dir%22/call%20%3C2%3E.wav\""), std::string::npos);
  EXPECT_EQ(Count(html, "<audio "), 2u);
  EXPECT_NE(html.find("media-src file: 'self'"), std::string::npos);
  // A report in a subfolder links up to the database's folder.
  input.output_dir = dir_ + "/reports/ci";
  html = RenderHtmlReport(input);
  EXPECT_NE(html.find("src=\"../../runs.recordings/run-1/call-1.wav\""), std::string::npos);
}

TEST_F(HtmlReportTest, ThresholdsShowTheirVerdictsAndObservedValues) {
  const int64_t run = Begin("order_status");
  AddCall(run, 1, "order_status", true, 1500);
  store_->SetThresholds(run, {{.metric = "turn_latency", .expression = "p(95)<1200",
                               .observed_metric = "turn_latency_p95_ms", .observed = 1500,
                               .passed = false},
                              {.metric = "task_completion", .expression = "rate>0.9",
                               .observed_metric = "task_completion_rate", .observed = 1,
                               .passed = true}});
  store_->FinishRun(run, "completed", "h", 99);
  const std::string html = Render({run});
  EXPECT_NE(html.find("1 of 2 passed"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"fail\"><td>\u2717 fail</td><td>turn_latency</td><td>p(95)&lt;1200"
                      "</td><td class=\"num\">1500.0</td>"),
            std::string::npos)
      << html;
  EXPECT_EQ(Count(html, "<tr class=\"pass\">"), 1u);
}

TEST_F(HtmlReportTest, TheHistogramCaptionCountsTheBarsDrawnAndMarksThePercentiles) {
  const int64_t run = Begin("order_status");
  for (int64_t id = 1; id <= 20; ++id) AddCall(run, id, "order_status", true, 1000 + 10 * id);
  store_->FinishRun(run, "completed", "h", 0);
  const std::string html = Render({run});
  // 1010..1200 in 20 samples: five bins of 50 ms from 1000 to 1250.
  EXPECT_NE(html.find("<span class=\"bin-count\">5</span> bins of 50 ms"), std::string::npos);
  EXPECT_EQ(Count(html, "<rect class=\"bar\""), 5u);
  // Nearest rank over 20: p50 is the 10th (1100), p95 the 19th (1190), p99 the 20th (1200).
  EXPECT_EQ(Count(html, "data-label=\"p50\" data-value=\"1100.0\""), 2u);  // histogram and CDF
  EXPECT_EQ(Count(html, "data-label=\"p95\" data-value=\"1190.0\""), 2u);
  EXPECT_EQ(Count(html, "data-label=\"p99\" data-value=\"1200.0\""), 2u);
  // The waterfall of the p50 turn (call 10) and of the p95 turn (call 19).
  EXPECT_NE(html.find("p50 turn: call 10, turn 1, 1100.0 ms"), std::string::npos);
  EXPECT_NE(html.find("p95 turn: call 19, turn 1, 1190.0 ms"), std::string::npos);
  EXPECT_EQ(html.find("<article"), std::string::npos);  // nothing failed
}

TEST_F(HtmlReportTest, AMixGetsWerAndTaskCompletionByScenario) {
  const int64_t run = Begin("load.yaml");
  AddCall(run, 1, "order_status", true, 1000);
  AddCall(run, 2, "order_status", false, 1000);
  AddCall(run, 3, "barge_in", true, 1000);
  store_->FinishRun(run, "completed", "h", 99);
  const std::string html = Render({run});
  // order_status: 1 of 2 passed, 1 deletion in 8 words; barge_in: 1 of 1, no errors.
  EXPECT_NE(html.find("<td>barge_in</td><td class=\"num\">1</td><td class=\"num\">1</td><td "
                      "class=\"num\">100.0%</td><td class=\"num\">0.0%</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<td>order_status</td><td class=\"num\">2</td><td class=\"num\">1</td><td "
                      "class=\"num\">50.0%</td><td class=\"num\">12.5%</td>"),
            std::string::npos);
}

TEST_F(HtmlReportTest, SeveralRunsGetAContentsListAndOneRunNone) {
  const int64_t a = Begin("a.yaml");
  store_->FinishRun(a, "completed", "h", 0);
  const int64_t b = Begin("b.yaml");
  store_->FinishRun(b, "completed", "h", 0);
  const std::string two = Render({a, b});
  EXPECT_NE(two.find("<nav class=\"toc\">"), std::string::npos);
  EXPECT_NE(two.find("<a href=\"#run-2\">Run 2: b.yaml (completed) \u2014 runs.db#2</a>"),
            std::string::npos);
  EXPECT_EQ(Count(two, "<section class=\"run\""), 2u);
  EXPECT_EQ(Render({a}).find("<nav"), std::string::npos);
}

CompareRow Row(const std::string& metric, double base, double now, Verdict verdict) {
  CompareRow r;
  r.metric = metric;
  r.unit = "ms";
  r.base = base;
  r.now = now;
  r.change = now - base;
  r.change_pct = 100 * (now - base) / base;
  r.ci_low = r.change - 30;
  r.ci_high = r.change + 30;
  r.base_n = r.new_n = 200;
  r.verdict = verdict;
  return r;
}

TEST(HtmlCompareTable, EachRowShowsItsChangeIntervalAndVerdict) {
  CompareResult result;
  result.base.run_id = 1;
  result.base.scenario = "order_status.yaml";
  result.now.run_id = 2;
  result.now.scenario = "order_status.yaml";
  result.base_label = "runs.db#1";
  result.rows = {Row("turn_latency.p95", 1716.7, 1868.2, Verdict::kRegressed),
                 Row("llm_ttft.p50", 600, 500, Verdict::kImproved),
                 Row("barge_in_stop.p99", 400, 401, Verdict::kNoChange)};
  result.rows[2].note = "3 samples in base, need 10";
  HtmlReportInput input;
  input.compare = result;
  const std::string html = RenderHtmlReport(input);
  EXPECT_EQ(Count(html, "<tr class=\"regressed\">"), 1u);
  EXPECT_EQ(Count(html, "<tr class=\"improved\">"), 1u);
  EXPECT_EQ(Count(html, "<tr class=\"no-change\">"), 1u);
  EXPECT_NE(html.find("<td>turn_latency.p95</td><td class=\"num\">1716.7 ms</td><td "
                      "class=\"num\">1868.2 ms</td><td class=\"num\"><span class=\"arrow\">\u25B2"
                      "</span> +151.5 ms (+8.83%)</td><td class=\"num\">[+121.5, +181.5]</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<span class=\"arrow\">\u25BC</span> -100.0 ms"), std::string::npos);
  EXPECT_NE(html.find("verdict: regressed (turn_latency.p95)"), std::string::npos);
  EXPECT_NE(html.find("3 samples in base, need 10"), std::string::npos);
  EXPECT_NE(html.find("<td>no significant change</td>"), std::string::npos);
  EXPECT_NE(html.find("runs.db#1 (order_status.yaml, seed 0) \u2192 run 2 (order_status.yaml, seed 0)"),
            std::string::npos);
}

TEST(HtmlCompareTable, ARegressionOutsideTheGateDoesNotFailIt) {
  CompareResult result;
  result.rows = {Row("wer", 5, 9, Verdict::kRegressed)};
  result.rows[0].gated = false;
  const std::string html = CompareSectionHtml(result, "compare");
  EXPECT_NE(html.find("verdict: no regression"), std::string::npos);
  EXPECT_NE(html.find("regressed (not gated)"), std::string::npos);
}

}  // namespace
}  // namespace callsim::reports
