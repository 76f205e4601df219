#include "harness/run/merge_state.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "agent/runtime/rng.h"

namespace callsim::harness {
namespace {

constexpr int kMergeStateVersion = 1;

// Logs are stored as differences from the previous value (small numbers, short JSON).
nlohmann::json DeltaEncode(const std::vector<int64_t>& values) {
  nlohmann::json out = nlohmann::json::array();
  int64_t previous = 0;
  for (int64_t v : values) {
    out.push_back(v - previous);
    previous = v;
  }
  return out;
}

bool DeltaDecode(const nlohmann::json& json, std::vector<int64_t>* out) {
  if (!json.is_array()) return false;
  out->clear();
  out->reserve(json.size());
  int64_t value = 0;
  for (const nlohmann::json& d : json) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) return false;  // logs never go back
    value += d.get<int64_t>();
    out->push_back(value);
  }
  return true;
}

std::vector<int64_t> MergeSorted(const std::vector<const std::vector<int64_t>*>& lists) {
  std::vector<int64_t> out;
  for (const std::vector<int64_t>* list : lists) MergeSortedInto(out, *list);
  return out;
}

// Reads state[key] as an integer into *out; false with *error otherwise.
template <typename T>
bool ReadInt(const nlohmann::json& j, const char* key, T* out, std::string* error,
             const std::string& where = "") {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    *error = where + key + ": expected an integer";
    return false;
  }
  *out = it->get<T>();
  return true;
}

}  // namespace

void MergeSortedInto(std::vector<int64_t>& into, const std::vector<int64_t>& more) {
  const size_t middle = into.size();
  into.insert(into.end(), more.begin(), more.end());
  std::inplace_merge(into.begin(), into.begin() + static_cast<std::ptrdiff_t>(middle), into.end());
}

std::vector<const ProviderUse*> ProviderUses(const std::vector<const MergeState*>& parts,
                                             std::string_view provider) {
  std::vector<const ProviderUse*> uses;
  for (const MergeState* s : parts) {
    for (const ProviderUse& p : s->providers) {
      if (p.provider == provider) uses.push_back(&p);
    }
  }
  return uses;
}

std::string HashHex(uint64_t hash) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, hash);
  return buf;
}

bool ParseHashHex(std::string_view text, uint64_t* out) {
  if (text.size() != 16) return false;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else return false;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  *out = value;
  return true;
}

std::string RunHash(const std::vector<uint64_t>& call_hashes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t id = 0; id < call_hashes.size(); ++id) {
    const std::string part = std::to_string(id) + ":" + std::to_string(call_hashes[id]) + ";";
    h = agent::Fnv1a64(part, h);
  }
  return HashHex(h);
}

ReportAdmission::ReportAdmission(size_t capacity, int64_t processing_us)
    : capacity_(capacity), processing_us_(std::max<int64_t>(0, processing_us)) {}

bool ReportAdmission::Offer(int64_t ended_us) {
  while (!done_us_.empty() && done_us_.front() <= ended_us) done_us_.pop_front();
  if (done_us_.size() >= capacity_) {
    ++dropped_;
    return false;
  }
  // Built after the reports ahead of it, from the call's end at the earliest.
  const int64_t start_us = done_us_.empty() ? ended_us : std::max(ended_us, done_us_.back());
  done_us_.push_back(start_us + processing_us_);
  ++accepted_;
  return true;
}

nlohmann::json MergeStateToJson(const MergeState& s) {
  nlohmann::json providers = nlohmann::json::array();
  for (const ProviderUse& p : s.providers) {
    const fakes::CapacityStats& st = p.stats;
    providers.push_back({
        {"provider", p.provider},
        {"max_concurrent", p.config.max_concurrent},
        {"queue", p.config.queue},
        {"queue_timeout_ms", p.config.queue_timeout_ms},
        {"rate_limit_per_s", p.config.rate_limit_per_s},
        {"requests", st.requests},
        {"granted", st.granted},
        {"queued", st.queued},
        {"queue_timeouts", st.queue_timeouts},
        {"over_capacity", st.over_capacity},
        {"rate_limited", st.rate_limited},
        {"max_wait_us", st.max_wait_us},
        {"total_wait_us", st.total_wait_us},
        {"requests_us", DeltaEncode(p.log.requests_us)},
        {"grants_us", DeltaEncode(p.log.grants_us)},
        {"releases_us", DeltaEncode(p.log.releases_us)},
    });
  }
  return {
      {"version", kMergeStateVersion},
      {"arrivals", s.arrivals},
      {"shard", {{"index", s.shard.index}, {"count", s.shard.count}}},
      {"counters", s.counters},
      {"providers", std::move(providers)},
      {"breaker_threshold", s.breaker_threshold},
      {"breaker_failures", s.breaker_failures},
      {"max_active_calls", s.max_active_calls},
      {"peak_active_calls", s.peak_active_calls},
      {"post_call",
       {{"builds_reports", s.builds_reports},
        {"capacity", s.post_call_capacity},
        {"processing_us", s.post_call_processing_us},
        {"all_reports", s.all_reports}}},
      {"summed_metrics", s.summed_metrics},
      {"calls_not_started", s.calls_not_started},
  };
}

bool MergeStateFromJson(const nlohmann::json& j, MergeState* out, std::string* error) {
  if (!j.is_object()) {
    *error = "expected an object";
    return false;
  }
  int version = 0;
  if (!ReadInt(j, "version", &version, error)) return false;
  if (version != kMergeStateVersion) {
    *error = "version " + std::to_string(version) + " (this callsim reads " +
             std::to_string(kMergeStateVersion) + ")";
    return false;
  }
  MergeState s;
  if (!ReadInt(j, "arrivals", &s.arrivals, error)) return false;
  const nlohmann::json shard = j.value("shard", nlohmann::json());
  if (!shard.is_object() || !ReadInt(shard, "index", &s.shard.index, error, "shard.") ||
      !ReadInt(shard, "count", &s.shard.count, error, "shard.")) {
    if (error->empty()) *error = "shard: expected an object";
    return false;
  }
  if (s.shard.count < 1 || s.shard.index < 1 || s.shard.index > s.shard.count) {
    *error = "shard: " + std::to_string(s.shard.index) + "/" + std::to_string(s.shard.count) +
             " is not a slice";
    return false;
  }
  s.counters = j.value("counters", nlohmann::json());
  const nlohmann::json providers = j.value("providers", nlohmann::json());
  if (!providers.is_array()) {
    *error = "providers: expected an array";
    return false;
  }
  for (const nlohmann::json& p : providers) {
    ProviderUse use;
    const std::string where = "providers.";
    use.provider = p.value("provider", "");
    if (std::find(std::begin(kProviderNames), std::end(kProviderNames), use.provider) ==
        std::end(kProviderNames)) {
      *error = where + "provider: expected stt, llm or tts";
      return false;
    }
    fakes::CapacityStats& st = use.stats;
    if (!ReadInt(p, "max_concurrent", &use.config.max_concurrent, error, where) ||
        !ReadInt(p, "queue", &use.config.queue, error, where) ||
        !ReadInt(p, "requests", &st.requests, error, where) ||
        !ReadInt(p, "granted", &st.granted, error, where) ||
        !ReadInt(p, "queued", &st.queued, error, where) ||
        !ReadInt(p, "queue_timeouts", &st.queue_timeouts, error, where) ||
        !ReadInt(p, "over_capacity", &st.over_capacity, error, where) ||
        !ReadInt(p, "rate_limited", &st.rate_limited, error, where) ||
        !ReadInt(p, "max_wait_us", &st.max_wait_us, error, where) ||
        !ReadInt(p, "total_wait_us", &st.total_wait_us, error, where)) {
      return false;
    }
    if (!p.contains("queue_timeout_ms") || !p["queue_timeout_ms"].is_number() ||
        !p.contains("rate_limit_per_s") || !p["rate_limit_per_s"].is_number()) {
      *error = where + "queue_timeout_ms and rate_limit_per_s: expected numbers";
      return false;
    }
    use.config.queue_timeout_ms = p["queue_timeout_ms"].get<double>();
    use.config.rate_limit_per_s = p["rate_limit_per_s"].get<double>();
    if (!DeltaDecode(p.value("requests_us", nlohmann::json()), &use.log.requests_us) ||
        !DeltaDecode(p.value("grants_us", nlohmann::json()), &use.log.grants_us) ||
        !DeltaDecode(p.value("releases_us", nlohmann::json()), &use.log.releases_us)) {
      *error = where + use.provider + ": a log is not a list of non-negative steps";
      return false;
    }
    s.providers.push_back(std::move(use));
  }
  if (!ReadInt(j, "breaker_threshold", &s.breaker_threshold, error) ||
      !ReadInt(j, "max_active_calls", &s.max_active_calls, error) ||
      !ReadInt(j, "peak_active_calls", &s.peak_active_calls, error) ||
      !ReadInt(j, "calls_not_started", &s.calls_not_started, error)) {
    return false;
  }
  const nlohmann::json post = j.value("post_call", nlohmann::json());
  if (!post.is_object() || !post.value("builds_reports", nlohmann::json()).is_boolean() ||
      !post.value("all_reports", nlohmann::json()).is_boolean() ||
      !ReadInt(post, "capacity", &s.post_call_capacity, error, "post_call.") ||
      !ReadInt(post, "processing_us", &s.post_call_processing_us, error, "post_call.")) {
    if (error->empty()) *error = "post_call: expected builds_reports, capacity, processing_us, all_reports";
    return false;
  }
  s.builds_reports = post["builds_reports"].get<bool>();
  s.all_reports = post["all_reports"].get<bool>();
  try {
    s.breaker_failures = j.at("breaker_failures").get<std::map<std::string, int64_t>>();
    s.summed_metrics = j.at("summed_metrics").get<std::map<std::string, int64_t>>();
  } catch (const nlohmann::json::exception&) {
    *error = "breaker_failures and summed_metrics: expected objects of integers";
    return false;
  }
  *out = std::move(s);
  return true;
}

std::map<std::string, double> CapacityMetrics(const std::vector<const ProviderUse*>& parts) {
  std::map<std::string, double> m;
  if (parts.empty()) return m;
  fakes::CapacityStats total;
  std::vector<const std::vector<int64_t>*> grants, releases;
  for (const ProviderUse* p : parts) {
    total += p->stats;
    grants.push_back(&p->log.grants_us);
    releases.push_back(&p->log.releases_us);
  }
  const std::string p = parts.front()->provider + "_capacity_";
  auto count = [](uint64_t n) { return static_cast<double>(n); };
  m[p + "requests"] = count(total.requests);
  m[p + "queued"] = count(total.queued);
  m[p + "queue_timeouts"] = count(total.queue_timeouts);
  m[p + "over_capacity"] = count(total.over_capacity);
  m[p + "rate_limited"] = count(total.rate_limited);
  m[p + "peak_in_service"] = fakes::PeakInService(MergeSorted(grants), MergeSorted(releases));
  m[p + "max_wait_ms"] = static_cast<double>(total.max_wait_us) / 1000.0;
  m[p + "mean_wait_ms"] = total.granted ? static_cast<double>(total.total_wait_us) / 1000.0 /
                                              static_cast<double>(total.granted)
                                        : 0.0;
  return m;
}

std::string BreakerCoupling(const std::vector<const MergeState*>& parts) {
  if (parts.empty()) return "";
  std::map<std::string, int64_t> failures;
  for (const MergeState* s : parts) {
    for (const auto& [backend, n] : s->breaker_failures) failures[backend] += n;
  }
  const int threshold = parts.front()->breaker_threshold;
  for (const auto& [backend, n] : failures) {
    if (n > 0 && n >= threshold) {
      return "circuit breaker of " + backend + ": " + std::to_string(n) +
             " failures together reach its threshold " + std::to_string(threshold) +
             " (one shared breaker could have opened)";
    }
  }
  return "";
}

std::string ProviderCoupling(const std::vector<const ProviderUse*>& uses) {
  if (uses.empty()) return "";
  const std::string& provider = uses.front()->provider;
  const fakes::CapacityConfig& config = uses.front()->config;
  std::vector<const std::vector<int64_t>*> requests, grants, releases;
  for (const ProviderUse* u : uses) {
    const fakes::CapacityStats& st = u->stats;
    if (st.queued + st.over_capacity + st.rate_limited + st.queue_timeouts > 0) {
      return provider + " capacity: a part's own limiter already queued or refused requests";
    }
    requests.push_back(&u->log.requests_us);
    grants.push_back(&u->log.grants_us);
    releases.push_back(&u->log.releases_us);
  }
  const int peak = fakes::PeakInService(MergeSorted(grants), MergeSorted(releases));
  if (config.max_concurrent > 0 && peak > config.max_concurrent) {
    return provider + " capacity: " + std::to_string(peak) +
           " requests in service together, over max_concurrent " +
           std::to_string(config.max_concurrent) + " (one shared limiter would have queued)";
  }
  if (config.rate_limit_per_s > 0) {
    fakes::TokenBucket bucket(config.rate_limit_per_s, 0);
    for (int64_t t : MergeSorted(requests)) {
      if (!bucket.Take(t)) {
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "%s capacity: the requests together exceed rate_limit_per_s %g at %.3f s "
                      "(one shared limiter would have refused)",
                      provider.c_str(), config.rate_limit_per_s, static_cast<double>(t) / 1e6);
        return buf;
      }
    }
  }
  return "";
}

std::string LanesCoupling(const MergeState& part) {
  for (const ProviderUse& use : part.providers) {
    if (std::string why = ProviderCoupling({&use}); !why.empty()) return why;
  }
  return BreakerCoupling({&part});
}

std::string Coupling(const std::vector<const MergeState*>& parts) {
  if (parts.size() <= 1) return "";  // one part is the run itself
  for (const char* provider : kProviderNames) {
    if (std::string why = ProviderCoupling(ProviderUses(parts, provider)); !why.empty()) return why;
  }
  if (std::string breaker = BreakerCoupling(parts); !breaker.empty()) return breaker;
  int64_t peak_sum = 0;
  for (const MergeState* s : parts) peak_sum += s->peak_active_calls;
  const int bound = parts.front()->max_active_calls;
  if (peak_sum > bound) {
    return "active-call bound: up to " + std::to_string(peak_sum) + " calls together, over " +
           std::to_string(bound);
  }
  return "";
}

}  // namespace callsim::harness
