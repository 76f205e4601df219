// Test helper: one scrape of a registry (AgentMetrics's or any other), with look-ups of single series by name and
// labels, so tests assert what a Prometheus server would read rather than private state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "agent/observability/agent_metrics.h"

namespace callsim::agent::testing {

class Scrape {
 public:
  explicit Scrape(const AgentMetrics& metrics) : families_(metrics.registry()->Collect()) {}
  explicit Scrape(const prometheus::Registry& registry) : families_(registry.Collect()) {}

  // The series of family `name` with exactly `labels`; fails the test when there is none.
  prometheus::ClientMetric Series(const std::string& name,
                                  const std::map<std::string, std::string>& labels = {}) const {
    for (const prometheus::MetricFamily& family : families_) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        std::map<std::string, std::string> have;
        for (const auto& label : metric.label) have[label.name] = label.value;
        if (have == labels) return metric;
      }
    }
    ADD_FAILURE() << "no series " << name << " with the given labels";
    return {};
  }

  double Counter(const std::string& name,
                 const std::map<std::string, std::string>& labels = {}) const {
    return Series(name, labels).counter.value;
  }
  double Gauge(const std::string& name) const { return Series(name).gauge.value; }
  prometheus::ClientMetric::Histogram Histogram(
      const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    return Series(name, labels).histogram;
  }

  // Series count of family `name` (0 when there is no such family).
  size_t SeriesCount(const std::string& name) const {
    for (const prometheus::MetricFamily& family : families_) {
      if (family.name == name) return family.metric.size();
    }
    return 0;
  }

 private:
  std::vector<prometheus::MetricFamily> families_;
};

// The cumulative count of the bucket whose upper bound is `le` (fails the test when none is).
inline uint64_t BucketCount(const prometheus::ClientMetric::Histogram& histogram, double le) {
  for (const auto& bucket : histogram.bucket) {
    if (bucket.upper_bound == le) return bucket.cumulative_count;
  }
  ADD_FAILURE() << "no bucket le=" << le;
  return 0;
}

}  // namespace callsim::agent::testing
