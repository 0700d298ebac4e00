#pragma once

#include "bench/systems.hpp"

namespace shoal::bench {

// The controller models (docs/benchmarks.md, "Controller model"), calibrated on real OpenStack
// Zed on this machine (../shared/openstack/NOTES.md: one boot 0.8 s, of which the POST 0.1 s;
// 20 concurrent boots on one compute all ACTIVE by 12-13 s, builds serialised at ~0.6 s each;
// token validation 13-20 ms). The paper's cloudlet controller had 2 cores, the standard one 4:
// twice the API workers, concurrent builds and queues.
SystemModel CalibratedControllerModel();

}  // namespace shoal::bench
