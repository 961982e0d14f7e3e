#pragma once
// The stream mapping of REFERENCE.md §2 (TensorDash, MICRO 2020), shared by the PE types that
// feed PE rows and columns with L-lane streams (tensordash, two-sided).
//
// Operand 0 is the activation-like operand of the pass (forward: input activation windows;
// input-grad: windows of the dilated, padded output gradient; weight-grad: saved-activation streams
// per kernel position and channel); operand 1 is the other (forward and input-grad: filters;
// weight-grad: output-gradient channels). Pairs are enumerated: for each group, for each outer
// position (weight-grad: kernel position, kernel row fastest; otherwise one), for each operand-0
// set, for each operand-1 set.
#include <cstdint>
#include <vector>

#include "swatsim/arch/layer.hpp"

namespace swatsim::arch::streams {

struct Mapping {
  uint32_t groups = 1;
  uint32_t outer = 1;             ///< outer positions (weight-grad: R*S)
  uint32_t streams[2] = {0, 0};   ///< streams per group (and outer position) of each operand
  uint32_t T = 0;                 ///< steps per stream
  uint32_t lanes = 16;
  uint64_t zeros[2] = {0, 0};     ///< zero elements of each operand's compared tensor
  uint64_t total[2] = {0, 0};     ///< elements of each operand's compared tensor
  /// True if operand 0 has the strictly larger fraction of zeros (ties go to operand 1 in all
  /// three passes: weights, weights, gradient).
  bool op0_sparser() const;
};

/// Builds lane words (one uint64 per stream step, low `lanes` bits used) for one pass of one sample.
class PassStreams {
public:
  PassStreams(const PassInput& in, uint32_t lanes);
  const Mapping& mapping() const { return m_; }
  /// Selects the group whose streams build() returns; prepares the operand data lazily.
  void set_group(uint32_t g);
  /// Writes streams [first, first+count) of operand `op` at outer position `o`, step-major:
  /// out[t*stride + j] for j < count; columns count..stride-1 are zeroed.
  void build(int op, uint32_t o, uint32_t first, uint32_t count, uint32_t stride, uint64_t* out);

private:
  void prepare(int op);
  void prepare_forward_map();
  void prepare_forward_filters();
  void prepare_input_grad_map();
  void prepare_input_grad_filters();
  void prepare_weight_grad_map();
  void prepare_weight_grad_gradient();
  PassInput in_;
  Mapping m_;
  uint32_t g_ = 0;
  bool ready_[2] = {false, false};
  // prepared data of the current group
  uint32_t cw_ = 0, hp_ = 0, wp_ = 0;  // words per pixel / padded map
  std::vector<uint64_t> map0_;        // forward/input-grad: pixel-major channel bitsets;
                                       // weight-grad: column-major padded map per channel
  uint64_t plane_words_ = 0;           // weight-grad: words per channel plane
  std::vector<uint64_t> map1_;        // forward/input-grad: filter tables; weight-grad: dY^T
  uint32_t cw1_ = 0;
  std::vector<uint64_t> tmp_;
};

}  // namespace swatsim::arch::streams
