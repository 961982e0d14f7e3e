
#include "swatsim/arch/layer.hpp"

#include <ostream>
#include "swatsim/arch/operand.hpp"
#include "swatsim/common/hw_popcount.hpp"

namespace swatsim::arch {

const char* to_string(Pass p) {
  switch (p) {
    case Pass::Forward: return "forward";
    case Pass::InputGrad: return "input-grad";
    case Pass::WeightGrad: return "weight-grad";
  }
  return "?";
}

std::optional<Pass> pass_from_string(const std::string& s) {
  if (s == "forward") return Pass::Forward;
  if (s == "input-grad") return Pass::InputGrad;
  if (s == "weight-grad") return Pass::WeightGrad;
  return std::nullopt;
}

SWATSIM_HW_POPCOUNT
uint64_t BitTensorView::count(uint64_t begin, uint64_t end) const {
  if (begin >= end) return 0;
  uint64_t n = 0;
  uint64_t wb = begin >> 6, we = (end - 1) >> 6;
  for (uint64_t w = wb; w <= we; ++w) {
    uint64_t x = words[w];
    if (w == wb) x &= ~uint64_t(0) << (begin & 63);
    if (w == we && ((end & 63) != 0)) x &= (uint64_t(1) << (end & 63)) - 1;
    n += uint64_t(__builtin_popcountll(x));
  }
  return n;
}

const char* to_string(TensorRole r) {
  switch (r) {
    case TensorRole::Activation: return "activation";
    case TensorRole::Weight: return "weight";
    case TensorRole::Gradient: return "gradient";
  }
  return "?";
}

void PrintTo(Pass p, std::ostream* os) { *os << to_string(p); }

}  // namespace swatsim::arch
