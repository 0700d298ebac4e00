#pragma once

#include <string>
#include <string_view>

namespace shoal::compute {

// Lower-case hex SHA-224 (FIPS 180-4), what Nova's hostId is made of. Implemented here so
// that shoal_compute needs no OpenSSL.
std::string Sha224Hex(std::string_view data);

}  // namespace shoal::compute
