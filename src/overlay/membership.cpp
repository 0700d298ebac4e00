#include "overlay/membership.hpp"

namespace shoal::overlay {

// Compiled once here; every other user of Membership links this instance.
template class BasicMembership<PeerDescriptor>;

}  // namespace shoal::overlay
