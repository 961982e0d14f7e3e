#pragma once
#include <cstdint>

namespace swatsim::arch {
/// ceil(a / b) for b > 0: sets, folds and chunks that a partial last one still counts in.
inline constexpr uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
}  // namespace swatsim::arch
