#pragma once
// SWAT (Sparse Weight Activation Training) layers: convolution and linear layers as custom
// autograd functions, top-K selection and the per-layer sparsity distributions.
// Algorithm: docs/frontend.md and ../shared/REFERENCE.md section 1.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace swatsim::frontend {

enum class Structure { Unstructured, Channel, Filter };
enum class Distribution { Uniform, Erk, Momentum };
Structure structure_from_string(const std::string& s);      ///< throws InputError
Distribution distribution_from_string(const std::string& s);  ///< throws InputError
const char* to_string(Structure s);
const char* to_string(Distribution d);

/// Number of elements top-K keeps: ceil((1-s)*n), at least 1 for n > 0. A slack of 64 ulps of n
/// (64*DBL_EPSILON*n) absorbs the rounding of (1-s)*n, so (1-0.8)*10 is 2, not 3, while
/// (1-0.9)*100,000,001 = 10,000,000.1 still rounds up to 10,000,001.
int64_t keep_count(double sparsity, int64_t n);

/// Exact top-K by magnitude over a whole tensor. Returns a bool mask of `mag`'s shape with exactly
/// k elements set. Tie rule: among elements equal to the k-th largest magnitude, the ones with
/// the lowest flat (C-order) index are kept. `threshold` receives the k-th largest magnitude.
torch::Tensor topk_mask(const torch::Tensor& mag, int64_t k, double* threshold);

/// State shared by every SWAT layer of a network: the training iteration and what to record.
struct SwatContext {
  int64_t iteration = 0;
  int64_t topk_period = 1;
  bool record = false;         ///< keep this iteration's tensors for the trace
  int64_t record_samples = 0;  ///< first B samples of the batch
  bool track_density = true;   ///< count non-zeros each iteration (for the log)
  bool plain = false;  ///< ordinary dense LibTorch layers and autograd (the benchmark's baseline)
  std::vector<class SwatLayerImpl*>* probe = nullptr;  ///< layers append themselves on forward
};

/// Options of one conv or linear layer.
struct SwatLayerOptions {
  bool linear = false;
  int64_t in = 0, out = 0, kernel = 1, stride = 1, padding = 0, groups = 1;
  bool bias = false;
};

/// A convolution (N,C,H,W) or linear (N,C) layer trained with SWAT.
class SwatLayerImpl : public torch::nn::Module {
public:
  SwatLayerImpl(SwatLayerOptions o, std::shared_ptr<SwatContext> ctx);
  torch::Tensor forward(const torch::Tensor& x);

  const SwatLayerOptions& options() const { return opt_; }
  torch::Tensor weight, bias;

  // Sparsity settings, set by the distribution (0 = dense).
  double weight_sparsity = 0.0;
  double act_sparsity = 0.0;
  Structure structure = Structure::Unstructured;
  bool dense = false;  ///< never sparsified (the first layer by default)

  // Threshold state (part of a checkpoint): the magnitude threshold of the last top-K and the
  // iteration it was computed at; -1 = never.
  double w_threshold = 0.0, a_threshold = 0.0;
  int64_t w_computed_at = -1, a_computed_at = -1;
  double w_sparsity_at = -1.0, a_sparsity_at = -1.0;  ///< sparsity the thresholds were made for

  // Densities of the last training forward pass: the fraction of elements the top-K masks keep
  // (natural zeros of W or X are not counted as removed; 1 for a tensor that is not sparsified).
  double weight_density = 1.0, act_density = 1.0;

  /// The weight density the distribution targets: K = keep_count over the units top-K ranks
  /// (elements; (out, in) kernel slices for channel; filters for filter) times the unit size.
  double target_weight_density() const;

  // Shapes seen by the last forward (input N,C,H,W; output N,K,Ho,Wo; linear: H=W=1).
  std::vector<int64_t> in_shape, out_shape;

  // Tensors kept for the trace when ctx->record is set (first B samples).
  torch::Tensor rec_x, rec_xs, rec_w, rec_dy;
  void clear_record() { rec_x = rec_xs = rec_w = rec_dy = torch::Tensor(); }

  /// The sparse weight topK(W) under the current threshold rules (no grad). `density` receives
  /// the fraction of weights the mask keeps.
  torch::Tensor sparse_weight(double* density = nullptr);
  /// Forces the next forward to recompute both thresholds.
  void invalidate() { w_computed_at = a_computed_at = -1; }

private:
  bool due(int64_t computed_at, double sparsity_at, double sparsity) const;
  torch::Tensor sparse_activation(const torch::Tensor& x, double* density);
  SwatLayerOptions opt_;
  std::shared_ptr<SwatContext> ctx_;
  torch::Tensor no_bias_;  ///< empty placeholder passed for the bias of a layer without one
};
TORCH_MODULE(SwatLayer);

/// Sets every layer's weight and activation sparsity. `layers` is in forward order; the first is
/// dense unless sparsify_first. Weight and activation sparsity are decided per tensor:
/// act_sparsity < 0: each layer's activation sparsity equals its weight sparsity; otherwise every
/// non-dense layer gets act_sparsity, also when sparsity is 0 (activations only). For Momentum, `momentum_mean_abs` holds each layer's mean |momentum| (empty:
/// uniform, as at the start of training).
struct DistributionSpec {
  Distribution distribution = Distribution::Uniform;
  Structure structure = Structure::Unstructured;
  double sparsity = 0.0;
  double act_sparsity = -1.0;
  bool sparsify_first = false;
};
void apply_distribution(const std::vector<SwatLayerImpl*>& layers, const DistributionSpec& spec,
                        const std::vector<double>& momentum_mean_abs = {});

/// ERK densities for layers with the given weight shapes, so that
/// dense_numel + sum(d_i*n_i) = (1-s)*(dense_numel + sum(n_i)): `dense_numel` weights of layers kept
/// dense (the first layer) are charged against the budget, as in RigL. Layers whose density would
/// exceed 1 are dense and the rest rescaled.
std::vector<double> erk_densities(const std::vector<std::vector<int64_t>>& weight_shapes,
                                  double sparsity, int64_t dense_numel = 0);
/// Densities proportional in non-zero share to `scores` (SNFS momentum), capped at 1 and redistributed.
std::vector<double> share_densities(const std::vector<int64_t>& numels,
                                    const std::vector<double>& scores, double sparsity);

}  // namespace swatsim::frontend
