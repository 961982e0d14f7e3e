#pragma once
// Word-level bit helpers shared by the stream builders (LSB-first packing, as in the trace format).
#include <cstdint>

#include "swatsim/arch/operand.hpp"

namespace swatsim::arch::bits {

/// n (1..64) bits starting at bit `pos` of `src`.
inline uint64_t get(const uint64_t* src, uint64_t pos, uint32_t n) {
  const uint64_t w = pos >> 6;
  const unsigned off = unsigned(pos & 63);
  uint64_t x = src[w] >> off;
  if (off != 0 && off + n > 64) x |= src[w + 1] << (64 - off);
  if (n < 64) x &= (uint64_t(1) << n) - 1;
  return x;
}

/// ORs n bits of `src` from `spos` into `dst` at `dpos`.
inline void copy_or(uint64_t* dst, uint64_t dpos, const uint64_t* src, uint64_t spos, uint64_t n) {
  while (n) {
    const uint32_t m = uint32_t(n < 64 ? n : 64);
    const uint64_t x = get(src, spos, m);
    const uint64_t w = dpos >> 6;
    const unsigned off = unsigned(dpos & 63);
    dst[w] |= x << off;
    if (off != 0 && off + m > 64) dst[w + 1] |= x >> (64 - off);
    n -= m;
    spos += m;
    dpos += m;
  }
}

/// Calls f(i) for every set element i in [begin, end) of `v`, in increasing order.
template <class F>
inline void for_each_set(const BitTensorView& v, uint64_t begin, uint64_t end, F&& f) {
  if (begin >= end) return;
  const uint64_t wb = begin >> 6, we = (end - 1) >> 6;
  for (uint64_t w = wb; w <= we; ++w) {
    uint64_t x = v.words[w];
    if (w == wb) x &= ~uint64_t(0) << (begin & 63);
    if (w == we && (end & 63) != 0) x &= (uint64_t(1) << (end & 63)) - 1;
    while (x) {
      const unsigned b = unsigned(__builtin_ctzll(x));
      f((w << 6) | b);
      x &= x - 1;
    }
  }
}

}  // namespace swatsim::arch::bits
