#pragma once
// FLOP and memory accounting of SWAT vs dense training (no LibTorch here).
// Convention (docs/frontend.md): FLOPs = 2 x MACs of the convolution and fully connected GEMMs,
// per image; BatchNorm, ReLU, pooling and the optimizer are not counted. Forward and input
// gradient scale with the layer's weight density, the weight gradient with its saved-activation
// density; the input gradient of the network's first layer is not computed.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swatsim::frontend {

struct LayerCost {
  std::string name;
  bool linear = false;
  int64_t C = 0, H = 0, W = 0, K = 0, R = 1, S = 1, stride = 1, padding = 0, groups = 1, Ho = 1, Wo = 1;
  bool first = false;        ///< the network's first layer: no input gradient
  bool sparse_act = false;   ///< saved activation is top-K (stored as bitmap + values)
  bool sparse_weight = false;
  double weight_density = 1.0;
  double act_density = 1.0;

  double forward_macs() const;  ///< per image
  int64_t weight_numel() const { return K * (C / groups) * R * S; }
  int64_t act_numel() const { return C * H * W; }  ///< per image
};

struct ReportMeta {
  std::string model, dataset, distribution, structure, source;  ///< source: "shapes" or "measured"
  double sparsity = 0.0, act_sparsity = -1.0;
  int64_t input_size = 0, batch = 1;
};

/// Per-layer and total FLOPs (dense vs SWAT, three passes) and memory (fp32 dense vs bitmap + fp32
/// non-zeros). JSON keys: "meta", "layers", "totals"; totals hold training_flop_reduction and
/// inference_flop_reduction as fractions.
nlohmann::json flop_report(const std::vector<LayerCost>& layers, const ReportMeta& meta);
/// A table of the layers and totals; for resnet50-imagenet also the published SWAT rows.
void print_report(const nlohmann::json& report, std::ostream& out);

}  // namespace swatsim::frontend
