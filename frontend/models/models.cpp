#include "models/models.hpp"

#include <map>

#include "swatsim/common/error.hpp"

namespace swatsim::frontend {

namespace F = torch::nn::functional;
using Ctx = std::shared_ptr<SwatContext>;

namespace {

SwatLayer conv(const Ctx& ctx, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, bool bias = false) {
  SwatLayerOptions o;
  o.in = in; o.out = out; o.kernel = k; o.stride = stride; o.padding = pad; o.bias = bias;
  return SwatLayer(o, ctx);
}
SwatLayer linear(const Ctx& ctx, int64_t in, int64_t out) {
  SwatLayerOptions o;
  o.linear = true; o.in = in; o.out = out; o.bias = true;
  return SwatLayer(o, ctx);
}
torch::nn::BatchNorm2d bn(int64_t c) { return torch::nn::BatchNorm2d(c); }

// LibTorch forbids dots in submodule names; a holder module gives torchvision-style names
// ("layer1.0.conv1") through nesting.
struct Holder : torch::nn::Module {};
std::shared_ptr<Holder> holder(torch::nn::Module& parent, std::map<std::string, std::shared_ptr<Holder>>& hs,
                               const std::string& name) {
  auto& h = hs[name];
  if (!h) h = parent.register_module(name, std::make_shared<Holder>());
  return h;
}

// ---- small-cnn: 2 conv + 2 fc, 28x28 grey input ----
struct SmallCnn : Net {
  SwatLayer c1, c2, f1, f2;
  torch::nn::BatchNorm2d b1, b2;
  SmallCnn(const Ctx& ctx, int64_t classes)
      : c1(register_module("conv1", conv(ctx, 1, 32, 3, 1, 1))),
        c2(register_module("conv2", conv(ctx, 32, 64, 3, 1, 1))),
        f1(register_module("fc1", linear(ctx, 64 * 7 * 7, 128))),
        f2(register_module("fc2", linear(ctx, 128, classes))),
        b1(register_module("bn1", bn(32))), b2(register_module("bn2", bn(64))) {}
  torch::Tensor forward(torch::Tensor x) override {
    x = F::max_pool2d(torch::relu(b1(c1(x))), F::MaxPool2dFuncOptions(2));
    x = F::max_pool2d(torch::relu(b2(c2(x))), F::MaxPool2dFuncOptions(2));
    x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({7, 7})).flatten(1);
    return f2(torch::relu(f1(x)));
  }
};

// ---- ResNet (CIFAR form after kuangliu/pytorch-cifar; ImageNet form after torchvision) ----
struct Block : torch::nn::Module {
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

struct BasicBlock : Block {
  SwatLayer c1{nullptr}, c2{nullptr}, sc{nullptr};
  torch::nn::BatchNorm2d b1{nullptr}, b2{nullptr}, sb{nullptr};
  BasicBlock(const Ctx& ctx, int64_t in, int64_t planes, int64_t stride) {
    c1 = register_module("conv1", conv(ctx, in, planes, 3, stride, 1));
    b1 = register_module("bn1", bn(planes));
    c2 = register_module("conv2", conv(ctx, planes, planes, 3, 1, 1));
    b2 = register_module("bn2", bn(planes));
    if (stride != 1 || in != planes) {
      sc = register_module("shortcut", conv(ctx, in, planes, 1, stride, 0));
      sb = register_module("shortcut_bn", bn(planes));
    }
  }
  torch::Tensor forward(torch::Tensor x) override {
    auto out = torch::relu(b1(c1(x)));
    out = b2(c2(out));
    auto s = sc ? sb(sc(x)) : x;
    return torch::relu(out + s);
  }
};

struct Bottleneck : Block {
  SwatLayer c1{nullptr}, c2{nullptr}, c3{nullptr}, sc{nullptr};
  torch::nn::BatchNorm2d b1{nullptr}, b2{nullptr}, b3{nullptr}, sb{nullptr};
  Bottleneck(const Ctx& ctx, int64_t in, int64_t planes, int64_t stride, int64_t width) {
    c1 = register_module("conv1", conv(ctx, in, width, 1, 1, 0));
    b1 = register_module("bn1", bn(width));
    c2 = register_module("conv2", conv(ctx, width, width, 3, stride, 1));
    b2 = register_module("bn2", bn(width));
    c3 = register_module("conv3", conv(ctx, width, planes * 4, 1, 1, 0));
    b3 = register_module("bn3", bn(planes * 4));
    if (stride != 1 || in != planes * 4) {
      sc = register_module("shortcut", conv(ctx, in, planes * 4, 1, stride, 0));
      sb = register_module("shortcut_bn", bn(planes * 4));
    }
  }
  torch::Tensor forward(torch::Tensor x) override {
    auto out = torch::relu(b1(c1(x)));
    out = torch::relu(b2(c2(out)));
    out = b3(c3(out));
    auto s = sc ? sb(sc(x)) : x;
    return torch::relu(out + s);
  }
};

struct ResNet : Net {
  bool imagenet;
  SwatLayer stem{nullptr}, fc{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr};
  std::vector<std::shared_ptr<Block>> blocks;
  std::map<std::string, std::shared_ptr<Holder>> hs;
  ResNet(const Ctx& ctx, bool bottleneck, std::vector<int> counts, int64_t classes, bool imagenet_form,
         int64_t width_factor) : imagenet(imagenet_form) {
    stem = register_module("conv1", imagenet ? conv(ctx, 3, 64, 7, 2, 3) : conv(ctx, 3, 64, 3, 1, 1));
    stem_bn = register_module("bn1", bn(64));
    int64_t in = 64;
    const int64_t exp = bottleneck ? 4 : 1;
    for (int stage = 0; stage < 4; ++stage) {
      const int64_t planes = 64 << stage;
      for (int i = 0; i < counts[size_t(stage)]; ++i) {
        const int64_t stride = (i == 0 && stage > 0) ? 2 : 1;
        std::shared_ptr<Block> b;
        if (bottleneck) b = std::make_shared<Bottleneck>(ctx, in, planes, stride, planes * width_factor);
        else b = std::make_shared<BasicBlock>(ctx, in, planes, stride);
        blocks.push_back(holder(*this, hs, "layer" + std::to_string(stage + 1))->register_module(std::to_string(i), b));
        in = planes * exp;
      }
    }
    fc = register_module("fc", linear(ctx, 512 * exp, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::relu(stem_bn(stem(x)));
    if (imagenet) x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
    for (auto& b : blocks) x = b->forward(x);
    x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1);
    return fc(x);
  }
};

// ---- VGG-16 with BatchNorm, CIFAR form (kuangliu/pytorch-cifar): conv biases, one FC ----
struct Vgg16 : Net {
  std::vector<SwatLayer> convs;
  std::vector<torch::nn::BatchNorm2d> bns;
  std::vector<bool> pool_after;
  SwatLayer fc{nullptr};
  std::map<std::string, std::shared_ptr<Holder>> hs;
  Vgg16(const Ctx& ctx, int64_t classes) {
    const std::vector<int> cfg{64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512, -1};
    int64_t in = 3;
    for (int v : cfg) {
      if (v < 0) { pool_after.back() = true; continue; }
      const auto i = std::to_string(convs.size());
      auto f = holder(*this, hs, "features");
      convs.push_back(f->register_module("conv" + i, conv(ctx, in, v, 3, 1, 1, true)));
      bns.push_back(f->register_module("bn" + i, bn(v)));
      pool_after.push_back(false);
      in = v;
    }
    fc = register_module("classifier", linear(ctx, 512, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    for (size_t i = 0; i < convs.size(); ++i) {
      x = torch::relu(bns[i](convs[i](x)));
      if (pool_after[i]) x = F::max_pool2d(x, F::MaxPool2dFuncOptions(2));
    }
    x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1);
    return fc(x);
  }
};

// ---- Wide ResNet 16-8 (Zagoruyko & Komodakis), pre-activation blocks ----
struct WideBlock : torch::nn::Module {
  SwatLayer c1{nullptr}, c2{nullptr}, sc{nullptr};
  torch::nn::BatchNorm2d b1{nullptr}, b2{nullptr};
  WideBlock(const Ctx& ctx, int64_t in, int64_t out, int64_t stride) {
    b1 = register_module("bn1", bn(in));
    c1 = register_module("conv1", conv(ctx, in, out, 3, stride, 1));
    b2 = register_module("bn2", bn(out));
    c2 = register_module("conv2", conv(ctx, out, out, 3, 1, 1));
    if (in != out || stride != 1) sc = register_module("shortcut", conv(ctx, in, out, 1, stride, 0));
  }
  torch::Tensor forward(torch::Tensor x) {
    auto o = torch::relu(b1(x));
    auto y = c1(o);
    y = c2(torch::relu(b2(y)));
    return y + (sc ? sc(o) : x);
  }
};
struct WideResNet : Net {
  SwatLayer stem{nullptr}, fc{nullptr};
  torch::nn::BatchNorm2d final_bn{nullptr};
  std::vector<std::shared_ptr<WideBlock>> blocks;
  std::map<std::string, std::shared_ptr<Holder>> hs;
  WideResNet(const Ctx& ctx, int depth, int widen, int64_t classes) {
    const int n = (depth - 4) / 6;
    const int64_t w[4] = {16, 16 * widen, 32 * widen, 64 * widen};
    stem = register_module("conv1", conv(ctx, 3, w[0], 3, 1, 1));
    int64_t in = w[0];
    for (int g = 0; g < 3; ++g)
      for (int i = 0; i < n; ++i) {
        const int64_t stride = (i == 0 && g > 0) ? 2 : 1;
        blocks.push_back(holder(*this, hs, "block" + std::to_string(g + 1))
                             ->register_module(std::to_string(i), std::make_shared<WideBlock>(ctx, in, w[g + 1], stride)));
        in = w[g + 1];
      }
    final_bn = register_module("bn", bn(in));
    fc = register_module("fc", linear(ctx, in, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = stem(x);
    for (auto& b : blocks) x = b->forward(x);
    x = torch::relu(final_bn(x));
    x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1);
    return fc(x);
  }
};

// ---- DenseNet-121, CIFAR form (kuangliu/pytorch-cifar): growth 32, 3x3 stem ----
struct DenseLayer : torch::nn::Module {
  torch::nn::BatchNorm2d b1{nullptr}, b2{nullptr};
  SwatLayer c1{nullptr}, c2{nullptr};
  DenseLayer(const Ctx& ctx, int64_t in, int64_t growth) {
    b1 = register_module("bn1", bn(in));
    c1 = register_module("conv1", conv(ctx, in, 4 * growth, 1, 1, 0));
    b2 = register_module("bn2", bn(4 * growth));
    c2 = register_module("conv2", conv(ctx, 4 * growth, growth, 3, 1, 1));
  }
  torch::Tensor forward(torch::Tensor x) {
    auto o = c1(torch::relu(b1(x)));
    o = c2(torch::relu(b2(o)));
    return torch::cat({o, x}, 1);
  }
};
struct Transition : torch::nn::Module {
  torch::nn::BatchNorm2d b{nullptr};
  SwatLayer c{nullptr};
  Transition(const Ctx& ctx, int64_t in, int64_t out) {
    b = register_module("bn", bn(in));
    c = register_module("conv", conv(ctx, in, out, 1, 1, 0));
  }
  torch::Tensor forward(torch::Tensor x) {
    return F::avg_pool2d(c(torch::relu(b(x))), F::AvgPool2dFuncOptions(2));
  }
};
struct DenseNet : Net {
  SwatLayer stem{nullptr}, fc{nullptr};
  torch::nn::BatchNorm2d final_bn{nullptr};
  std::vector<std::vector<std::shared_ptr<DenseLayer>>> stages;
  std::vector<std::shared_ptr<Transition>> trans;
  std::map<std::string, std::shared_ptr<Holder>> hs;
  DenseNet(const Ctx& ctx, std::vector<int> counts, int64_t growth, int64_t classes) {
    int64_t c = 2 * growth;
    stem = register_module("conv1", conv(ctx, 3, c, 3, 1, 1));
    for (size_t s = 0; s < counts.size(); ++s) {
      stages.emplace_back();
      for (int i = 0; i < counts[s]; ++i) {
        stages.back().push_back(holder(*this, hs, "dense" + std::to_string(s + 1))
                                    ->register_module(std::to_string(i), std::make_shared<DenseLayer>(ctx, c, growth)));
        c += growth;
      }
      if (s + 1 < counts.size()) {
        const int64_t out = c / 2;  // reduction 0.5
        trans.push_back(register_module("trans" + std::to_string(s + 1), std::make_shared<Transition>(ctx, c, out)));
        c = out;
      }
    }
    final_bn = register_module("bn", bn(c));
    fc = register_module("linear", linear(ctx, c, classes));
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = stem(x);
    for (size_t s = 0; s < stages.size(); ++s) {
      for (auto& l : stages[s]) x = l->forward(x);
      if (s < trans.size()) x = trans[s]->forward(x);
    }
    x = torch::relu(final_bn(x));
    x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1);
    return fc(x);
  }
};

}  // namespace

const std::vector<ModelInfo>& model_infos() {
  static const std::vector<ModelInfo> infos{
      {"small-cnn", 28, 1, "2 conv + 2 FC (swatsim's own quick model)"},
      {"resnet18", 32, 3, "ResNet-18, CIFAR form (kuangliu/pytorch-cifar)"},
      {"resnet50", 32, 3, "ResNet-50, CIFAR form (kuangliu/pytorch-cifar)"},
      {"vgg16", 32, 3, "VGG-16 with BatchNorm, CIFAR form (kuangliu/pytorch-cifar)"},
      {"wrn16-8", 32, 3, "WRN-16-8 (Zagoruyko & Komodakis 2016)"},
      {"densenet121", 32, 3, "DenseNet-121, CIFAR form (kuangliu/pytorch-cifar)"},
      {"resnet50-imagenet", 224, 3, "torchvision resnet50"},
      {"wrn50-2-imagenet", 224, 3, "torchvision wide_resnet50_2"},
  };
  return infos;
}

const ModelInfo& model_info(const std::string& name) {
  for (const auto& m : model_infos())
    if (m.name == name) return m;
  std::string all;
  for (const auto& m : model_infos()) all += (all.empty() ? "" : ", ") + m.name;
  throw InputError("--model", "unknown model '" + name + "' (expected one of: " + all + ")");
}

std::shared_ptr<Net> make_model(const std::string& name, int64_t classes, std::shared_ptr<SwatContext> ctx) {
  model_info(name);  // validates
  if (name == "small-cnn") return std::make_shared<SmallCnn>(ctx, classes);
  if (name == "resnet18") return std::make_shared<ResNet>(ctx, false, std::vector<int>{2, 2, 2, 2}, classes, false, 1);
  if (name == "resnet50") return std::make_shared<ResNet>(ctx, true, std::vector<int>{3, 4, 6, 3}, classes, false, 1);
  if (name == "resnet50-imagenet")
    return std::make_shared<ResNet>(ctx, true, std::vector<int>{3, 4, 6, 3}, classes, true, 1);
  if (name == "wrn50-2-imagenet")
    return std::make_shared<ResNet>(ctx, true, std::vector<int>{3, 4, 6, 3}, classes, true, 2);
  if (name == "vgg16") return std::make_shared<Vgg16>(ctx, classes);
  if (name == "wrn16-8") return std::make_shared<WideResNet>(ctx, 16, 8, classes);
  return std::make_shared<DenseNet>(ctx, std::vector<int>{6, 12, 24, 16}, 32, classes);
}

std::vector<LayerEntry> probe_layers(Net& net, SwatContext& ctx, int64_t in_channels, int64_t size) {
  std::map<const torch::nn::Module*, std::string> names;
  for (const auto& item : net.named_modules("", false)) names[item.value().get()] = item.key();
  std::vector<SwatLayerImpl*> order;
  const bool was_training = net.is_training();
  net.eval();
  {
    torch::NoGradGuard ng;
    ctx.probe = &order;
    auto dev = net.parameters().front().device();
    try {
      net.forward(torch::zeros({1, in_channels, size, size}, torch::TensorOptions().device(dev)));
    } catch (...) {
      ctx.probe = nullptr;
      throw;
    }
    ctx.probe = nullptr;
  }
  net.train(was_training);
  std::vector<LayerEntry> out;
  for (auto* l : order) out.push_back({names.count(l) ? names[l] : "layer", l});
  return out;
}

int64_t parameter_count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace swatsim::frontend
