#include "swatsim/sim/version.hpp"
namespace swatsim {
const char* version() { return SWATSIM_VERSION; }  // from CMake's project(VERSION)
}
