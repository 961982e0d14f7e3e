#pragma once
// A non-zero mask: one bit per element, C order, packed LSB-first into 64-bit words
// (element i is bit i%64 of word i/64; on disk the same bits as bytes, bit i%8 of byte i/8).
#include <cstdint>
#include <vector>

#include "swatsim/traces/format.hpp"

namespace swatsim::traces {

class Mask {
public:
  Mask() = default;
  explicit Mask(Shape shape) : shape_(shape), words_((shape.numel() + 63) / 64, 0) {}

  const Shape& shape() const { return shape_; }
  uint64_t numel() const { return shape_.numel(); }
  bool test(uint64_t i) const { return (words_[i >> 6] >> (i & 63)) & 1u; }
  void set(uint64_t i, bool on = true) {
    const uint64_t bit = uint64_t(1) << (i & 63);
    if (on) words_[i >> 6] |= bit; else words_[i >> 6] &= ~bit;
  }
  uint64_t count() const;  ///< number of set bits
  double density() const { return numel() ? double(count()) / double(numel()) : 0.0; }

  /// Changes the shape and clears every bit, reusing the storage (no allocation when it shrinks).
  void reset(Shape shape) {
    shape_ = shape;
    words_.assign((shape.numel() + 63) / 64, 0);
  }

  /// Changes the shape for a caller that overwrites every bitmap byte next (a reader): bits are
  /// unspecified until then, except that the last word is zero. Saves clearing the storage.
  void reshape_for_overwrite(Shape shape) {
    shape_ = shape;
    words_.resize((shape.numel() + 63) / 64);
    if (!words_.empty()) words_.back() = 0;
  }

  const std::vector<uint64_t>& words() const { return words_; }
  std::vector<uint64_t>& words() { return words_; }
  bool operator==(const Mask& o) const { return shape_ == o.shape_ && words_ == o.words_; }

  /// Mask of the non-zeros of a dense C-order tensor.
  static Mask from_values(Shape shape, const float* values);

private:
  Shape shape_;
  std::vector<uint64_t> words_;
};

}  // namespace swatsim::traces
