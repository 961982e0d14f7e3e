#pragma once
// What a work unit moves: the pass-to-operand mapping in one place (docs/memory.md).
//
// A PE model's work unit covers a block of its pass's GEMM in stream coordinates (GemmBlock:
// operand-0 streams x operand-1 streams, a reduction slice). This file turns such a block into the
// region of the stored tensor it reads (a 4-D box of the mask, never the im2col copy: a window set
// reads the input rows and columns under it once) and sizes that region in a storage format from
// its real non-zero mask.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "swatsim/arch/layer.hpp"
#include "swatsim/arch/operand.hpp"

namespace swatsim::arch {

/// The part of a pass's GEMM one work unit covers (streams.hpp's mapping: operand 0 is the
/// activation-side operand, operand 1 the weights (forward, input-grad) or the gradient (weight-grad)).
struct GemmBlock {
  uint32_t sample = 0;               ///< the sample whose maps it reads (the batch is part of the GEMM)
  uint32_t group = 0, outer = 0;     ///< convolution group; weight-grad: kernel position (r fastest)
  uint32_t m_begin = 0, m_end = 0;   ///< operand-0 streams
  uint32_t n_begin = 0, n_end = 0;   ///< operand-1 streams
  uint32_t k_part = 0, k_parts = 1;  ///< reduction slice k_part of k_parts equal slices
  uint64_t output_elements = 0;      ///< results the unit completes (written once, after its last slice)
};

enum class StorageFormat : uint8_t { Dense, Bitmap, Csr, Rle };
const char* to_string(StorageFormat f);  ///< "dense", "bitmap", "csr", "rle"
std::optional<StorageFormat> storage_format_from_string(const std::string& s);

/// Format constants (docs/memory.md): CSR keeps a column index per non-zero (2 bytes if a row has at
/// most 65536 elements, else 4) and a 4-byte pointer per row plus one; RLE keeps per non-zero its
/// value and the count of zeros before it in kRleRunBits bits, a run longer than the field holds
/// costs an extra entry with a zero value (Eyeriss, JSSC 2017: 5-bit runs).
inline constexpr unsigned kRleRunBits = 5;
inline constexpr unsigned kCsrPointerBytes = 4;

/// A box [lo, hi) over the four dims of a view.
struct TensorBox {
  std::array<uint32_t, 4> lo{0, 0, 0, 0}, hi{0, 0, 0, 0};
  uint64_t elements() const;
};

/// Non-zeros, and what a format needs besides, of one box of a mask.
struct BoxContents {
  uint64_t elements = 0, nonzeros = 0;
  uint64_t rle_entries = 0;  ///< non-zeros plus the extra entries long zero runs need
  uint64_t rows = 0;         ///< CSR rows: boxes of the dims after `row_dims`
  uint64_t row_length = 0;   ///< elements per CSR row
};
/// Counts a box; `row_dims` leading dims index CSR rows (1 for weights: a row is one filter; 2 for
/// maps: a row is one channel plane). `with_runs` also counts RLE entries (costs a walk over the
/// non-zeros).
BoxContents count_box(const BitTensorView& v, const TensorBox& box, int row_dims, bool with_runs);
/// A box's elements, CSR rows and row length, without reading the mask (nonzeros 0).
BoxContents box_shape(const TensorBox& box, int row_dims);
/// Bytes of a box's contents in a format with `value_bytes` per stored value.
uint64_t format_bytes(const BoxContents& c, StorageFormat f, uint32_t value_bytes);

/// A block of one stored tensor a unit reads.
struct OperandBlock {
  uint64_t key = 0;          ///< same key = same data (tensor identity, sample and box)
  uint64_t tensor = 0;       ///< identity of the tensor (the view's id, with the sample for maps)
  TensorRole role = TensorRole::Activation;
  uint64_t bytes = 0;        ///< in the role's storage format
  uint64_t offset = 0;       ///< byte offset of the block inside its tensor's allocation (docs/memory.md)
  uint64_t span_end = 0;     ///< the share of the tensor's bytes up to the box's last element (C order)
  uint64_t tensor_bytes = 0; ///< the whole tensor (one sample of a map) in its format
  BoxContents contents;
};

struct FormatChoice {
  StorageFormat format[3] = {StorageFormat::Dense, StorageFormat::Dense, StorageFormat::Dense};  ///< by TensorRole
  uint32_t value_bytes = 2;  ///< bf16 2, fp32 4
};

/// Memory for the 3-D prefix sums of maps, kept across jobs so that each job does not fault in
/// megabytes afresh; `owner` says which PassOperands last filled each operand's sums.
struct PrefixScratch {
  std::vector<uint32_t> sums[2];
  const void* owner[2] = {nullptr, nullptr};
};

/// One pass of one sample (select_sample() moves to another) seen as stored tensors.
class PassOperands {
public:
  /// `scratch` (may be null: then its own) holds the prefix sums of maps; one PassOperands at a time
  /// may use a scratch.
  PassOperands(const PassInput& in, const FormatChoice& formats, PrefixScratch* scratch = nullptr);
  PassOperands(const PassOperands&) = delete;
  PassOperands& operator=(const PassOperands&) = delete;
  ~PassOperands() {
    for (auto& o : (scratch_ ? scratch_->owner : own_scratch_.owner))
      if (o == this) o = nullptr;
  }
  /// Makes `sample` the one whose maps block() reads (the prefix sums of the whole batch are kept).
  void select_sample(uint32_t sample);
  /// The role of operand 0 and 1 in this pass.
  TensorRole role(int op) const { return operand_role(in_.pass, op); }
  /// The block of operand `op` a GemmBlock reads.
  OperandBlock block(int op, const GemmBlock& b) const;
  /// Bytes of a unit's results (written in the data type, dense: the result's mask is not known).
  uint64_t output_bytes(const GemmBlock& b) const { return b.output_elements * formats_.value_bytes; }

private:
  TensorBox box(int op, const GemmBlock& b) const;
  const BitTensorView& view(int op) const { return op == 0 ? in_.a : in_.b; }
  PassInput in_;
  FormatChoice formats_;
  uint64_t tensor_bytes_[2] = {0, 0};
  std::vector<uint64_t> prefix_[2];  ///< set bits before each word of each operand's mask (not for dense)
  /// Maps: set bits in [0,c) x [0,h) x [0,w) of the sample, built on first use.
  PrefixScratch* scratch_;
  mutable PrefixScratch own_scratch_;
  BoxContents map_box(int op, const TensorBox& x) const;
};

}  // namespace swatsim::arch
