// What nearly every test file includes, precompiled once per test binary (CMakeLists.txt:
// target_precompile_headers) and included first in each of its files. Only headers from outside
// the project belong here, so a change to callsim's own headers never rebuilds the header.
#pragma once

#include <utility>  // before anything that may pull in Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
