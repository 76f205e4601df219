// Fixture for the layer checker: a fakes test helper that reaches up into the harness's tests.
#pragma once

#include "tests/agent/providers/scripted_providers.h"
#include "tests/harness/scenario/temp_dir.h"
