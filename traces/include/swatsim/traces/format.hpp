#pragma once
// swatsim trace format v1: the types a trace holds. The byte layout is documented in
// docs/trace-format.md; this header is its C++ view.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace swatsim::traces {

inline constexpr uint32_t kFormatVersion = 1;

/// The four tensors the three training GEMMs of a layer use.
enum class TensorKind : uint8_t {
  InputAct = 0,    ///< forward input activation (dense, natural sparsity), N,C,H,W
  Weight = 1,      ///< top-K weights, K,C/groups,R,S
  SavedAct = 2,    ///< top-K activation saved for the weight gradient, N,C,H,W
  OutputGrad = 3,  ///< gradient of the layer output (dense), N,K,Ho,Wo
};
inline constexpr int kTensorKinds = 4;
const char* to_string(TensorKind k);
/// Parses "input_act", "weight", "saved_act", "output_grad"; nullopt otherwise.
std::optional<TensorKind> tensor_kind_from_string(const std::string& s);

/// Element type of the optional values stored beside a mask (only the non-zeros, in mask order).
enum class ValueType : uint8_t { None = 0, F32 = 1, BF16 = 2 };
const char* to_string(ValueType v);
inline size_t value_bytes(ValueType v) { return v == ValueType::F32 ? 4 : v == ValueType::BF16 ? 2 : 0; }

/// A 4-D shape in C order (N,C,H,W for maps; K,C,R,S for weights).
struct Shape {
  std::array<uint32_t, 4> dims{0, 0, 0, 0};
  uint64_t numel() const { return uint64_t(dims[0]) * dims[1] * dims[2] * dims[3]; }
  bool operator==(const Shape& o) const { return dims == o.dims; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  ///< "[2,64,56,56]"
};

enum class LayerKind : uint8_t { Conv = 0, Linear = 1 };
const char* to_string(LayerKind k);

/// One row of the layer table, in forward order.
struct LayerInfo {
  std::string name;
  LayerKind kind = LayerKind::Conv;
  uint32_t N = 0, C = 0, H = 0, W = 0;  ///< recorded samples, input channels, input map
  uint32_t K = 0, R = 0, S = 0;         ///< output channels, kernel rows, kernel columns
  uint32_t stride = 1, padding = 0, groups = 1;
  uint32_t Ho = 0, Wo = 0;  ///< output map, must equal the geometry's
  /// Which tensors each recorded iteration holds for this layer. SavedAct may be absent for a
  /// layer that keeps its activation dense (then the saved activation *is* InputAct).
  std::vector<TensorKind> tensors{TensorKind::InputAct, TensorKind::Weight, TensorKind::SavedAct,
                                  TensorKind::OutputGrad};

  bool has(TensorKind k) const;
  Shape shape_of(TensorKind k) const;
  /// Output size the geometry gives: (H + 2p - R) / stride + 1 (floor), 0 if the kernel does not fit.
  uint32_t expected_ho() const;
  uint32_t expected_wo() const;
  /// MACs of the dense forward GEMM for all N samples.
  uint64_t forward_macs() const;
};

struct SwatSettings {
  double sparsity = 0.0;             ///< weight top-K sparsity target, [0,1)
  double activation_sparsity = 0.0;  ///< activation top-K sparsity target, [0,1)
  std::string distribution = "uniform";     ///< uniform | erk | momentum
  std::string structure = "unstructured";   ///< unstructured | channel | filter
  uint32_t topk_period = 1;
  bool sparsify_first = false;
};

struct TraceHeader {
  uint32_t version = kFormatVersion;
  std::string producer = "swatsim";
  std::string producer_version;
  std::string model;
  std::string dataset;
  SwatSettings swat;
  uint64_t seed = 0;
  uint32_t batch_size = 0;  ///< training batch; each layer's N is the number of recorded samples
  std::vector<LayerInfo> layers;
};

/// One stored tensor: its place in the run, its shape and where its blob lies in the file.
struct TensorRecord {
  uint32_t iteration = 0;
  uint16_t layer = 0;
  TensorKind kind = TensorKind::InputAct;
  ValueType values = ValueType::None;
  Shape shape;
  uint64_t nnz = 0;
  uint64_t offset = 0;       ///< file offset of the stored blob
  uint64_t stored_size = 0;  ///< bytes in the file
  uint64_t raw_size = 0;     ///< bytes after decompression: bitmap, then values
  uint32_t crc32 = 0;        ///< CRC-32 (zlib) of the stored bytes
  uint8_t codec = 0;         ///< 0 = stored raw, 1 = zlib

  uint64_t bitmap_bytes() const { return (shape.numel() + 7) / 8; }
};

/// "FILE: iteration 3, layer 2 (conv2), output_grad": the place named in errors.
std::string locate(const std::string& file, const TraceHeader& h, uint32_t iteration, uint32_t layer, TensorKind kind);
inline std::string locate(const std::string& file, const TraceHeader& h, const TensorRecord& r) {
  return locate(file, h, r.iteration, r.layer, r.kind);
}

/// Elements top-K keeps of `n` at `sparsity` in [0,1): K = ceil((1-s)·n), computed so that rounding
/// in (1-s)·n cannot add one (slack of 64 ulps of n), and at least 1 for n > 0.
uint64_t topk_keep_count(double sparsity, uint64_t n);

/// Largest element count of one tensor a trace may hold: 2^34 (a 2 GiB bitmap; ResNet-50's largest
/// activation at batch 4096 and 224x224 has 3.3e9, about 2^31.6). Reading holds one tensor at a time
/// (docs/reliability.md), so this bounds what a small, hostile file can make a reader allocate.
inline constexpr uint64_t kMaxTensorElements = uint64_t(1) << 34;

}  // namespace swatsim::traces
