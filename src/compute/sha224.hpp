#pragma once

#include "common/crypto.hpp"

namespace shoal::compute {

// Nova's hostId digest, now OpenSSL's (common/crypto.hpp). Kept only because id_translation.cpp
// and its test include this header; they are to include common/crypto.hpp, then this goes.
using shoal::Sha224Hex;

}  // namespace shoal::compute
