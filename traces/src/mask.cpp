#include "swatsim/traces/mask.hpp"

#include <algorithm>

#include "swatsim/common/hw_popcount.hpp"

namespace swatsim::traces {

SWATSIM_HW_POPCOUNT
uint64_t Mask::count() const {
  uint64_t n = 0;
  for (uint64_t w : words_) n += uint64_t(__builtin_popcountll(w));
  return n;
}

Mask Mask::from_values(Shape shape, const float* values) {
  Mask m(shape);
  const uint64_t n = shape.numel();
  for (uint64_t base = 0; base < n; base += 64) {
    const uint64_t end = std::min<uint64_t>(n - base, 64);
    uint64_t w = 0;
    for (uint64_t j = 0; j < end; ++j) w |= uint64_t(values[base + j] != 0.0f) << j;
    m.words_[base >> 6] = w;
  }
  return m;
}

}  // namespace swatsim::traces
