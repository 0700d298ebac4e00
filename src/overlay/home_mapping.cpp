#include "overlay/home_mapping.hpp"

namespace shoal::overlay {

// Compiled once here; every other user of HomeMapping links this instance.
template class BasicHomeMapping<PeerDescriptor>;

}  // namespace shoal::overlay
