#pragma once
// The operands arch works on: non-zero masks seen through a lightweight, non-owning view.
// The bit layout is the trace format's (docs/trace-format.md): one bit per element, C order
// over four dims, packed LSB-first into 64-bit words (element i is bit i%64 of word i/64).
// arch never reads files, so sim hands it views of the masks it read without copying them.
#include <array>
#include <cstdint>

namespace swatsim::arch {

struct BitTensorView {
  const uint64_t* words = nullptr;
  std::array<uint32_t, 4> dims{0, 0, 0, 0};  ///< N,C,H,W for maps; K,C/groups,R,S for weights
  /// Caller-assigned identity: two views with the same non-zero id promise the same contents, so a
  /// PE model may reuse work derived from one for the other (for example a weight tensor's schedule
  /// across the samples of a batch). 0 means "no identity".
  uint64_t id = 0;

  uint64_t numel() const { return uint64_t(dims[0]) * dims[1] * dims[2] * dims[3]; }
  bool test(uint64_t i) const { return (words[i >> 6] >> (i & 63)) & 1u; }
  /// Offset of element (a,b,c,d) in C order.
  uint64_t index(uint32_t a, uint32_t b, uint32_t c, uint32_t d) const {
    return ((uint64_t(a) * dims[1] + b) * dims[2] + c) * dims[3] + d;
  }
  bool test(uint32_t a, uint32_t b, uint32_t c, uint32_t d) const { return test(index(a, b, c, d)); }
  /// Number of set bits in elements [begin, end).
  uint64_t count(uint64_t begin, uint64_t end) const;
};

}  // namespace swatsim::arch
