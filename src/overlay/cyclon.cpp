#include "overlay/cyclon.hpp"

namespace shoal::overlay {

// Compiled once here; every other user of Cyclon links this instance.
template class BasicCyclon<PeerDescriptor>;

}  // namespace shoal::overlay
