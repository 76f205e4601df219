// Fixture for the layer checker: the harness may include every layer below it.
#include "agent/runtime/scheduler.h"
#include "fakes/net/sim_link.h"
#include "harness/run/runner.h"
