// Fixture for the layer checker: an agent header that reaches up into the harness.
#pragma once

#include "harness/run/runner.h"
#include "agent/runtime/scheduler.h"
