#pragma once
// The networks swat-train trains. Every convolution and fully connected layer is a SwatLayer;
// BatchNorm, ReLU and pooling are ordinary dense layers. Parameter counts equal the reference
// architectures (tests/frontend checks them).
#include <memory>
#include <string>
#include <vector>

#include "swat/swat.hpp"

namespace swatsim::frontend {

class Net : public torch::nn::Module {
public:
  virtual ~Net() = default;
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

struct ModelInfo {
  std::string name;
  int64_t input_size;     ///< native input (CIFAR form 32, ImageNet form 224, small-cnn 28)
  int64_t in_channels;    ///< 3, or 1 for small-cnn
  const char* reference;  ///< the architecture whose parameter count it matches
};
const std::vector<ModelInfo>& model_infos();
const ModelInfo& model_info(const std::string& name);  ///< throws InputError for an unknown name

std::shared_ptr<Net> make_model(const std::string& name, int64_t classes, std::shared_ptr<SwatContext> ctx);

/// SWAT layers in forward (execution) order with their module names, found by running one
/// input of size x size through the network in eval mode. Fills each layer's in/out shapes.
struct LayerEntry {
  std::string name;
  SwatLayerImpl* layer;
};
std::vector<LayerEntry> probe_layers(Net& net, SwatContext& ctx, int64_t in_channels, int64_t size);

int64_t parameter_count(const torch::nn::Module& m);

}  // namespace swatsim::frontend
