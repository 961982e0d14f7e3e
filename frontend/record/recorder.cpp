#include "record/recorder.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace swatsim::frontend {

namespace tr = swatsim::traces;

std::vector<tr::LayerInfo> trace_layer_table(const std::vector<LayerEntry>& layers, int64_t samples) {
  std::vector<tr::LayerInfo> out;
  for (const auto& e : layers) {
    const auto* l = e.layer;
    const auto& o = l->options();
    tr::LayerInfo li;
    li.name = e.name;
    li.kind = o.linear ? tr::LayerKind::Linear : tr::LayerKind::Conv;
    li.N = uint32_t(samples);
    li.C = uint32_t(o.in);
    li.H = uint32_t(l->in_shape.at(2));
    li.W = uint32_t(l->in_shape.at(3));
    li.K = uint32_t(o.out);
    li.R = li.S = uint32_t(o.linear ? 1 : o.kernel);
    li.stride = uint32_t(o.linear ? 1 : o.stride);
    li.padding = uint32_t(o.linear ? 0 : o.padding);
    li.groups = uint32_t(o.groups);
    li.Ho = uint32_t(l->out_shape.at(2));
    li.Wo = uint32_t(l->out_shape.at(3));
    if (l->dense || l->act_sparsity <= 0.0)
      li.tensors = {tr::TensorKind::InputAct, tr::TensorKind::Weight, tr::TensorKind::OutputGrad};
    out.push_back(li);
  }
  return out;
}

TraceRecorder::TraceRecorder(const std::string& path, tr::TraceHeader header, std::vector<LayerEntry> layers,
                             bool store_values)
    : layers_(std::move(layers)), values_(store_values) {
  writer_ = std::make_unique<tr::TraceWriter>(path, std::move(header));
}

namespace {
void put(tr::TraceWriter& w, uint32_t it, uint16_t layer, tr::TensorKind kind, const tr::Shape& shape,
         const torch::Tensor& t, bool values) {
  // A mismatch between the layer table and the kept tensor is a bug in the recorder's caller.
  if (!t.defined() || uint64_t(t.numel()) != shape.numel())
    throw std::logic_error(fmt::format("trace recorder: layer {} {}: the kept tensor has {} elements, the layer table "
                                       "expects {} (was the layer recorded in this iteration?)",
                                       layer, tr::to_string(kind), t.defined() ? t.numel() : 0, shape.numel()));
  auto c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  auto mask = tr::Mask::from_values(shape, c.data_ptr<float>());
  if (values) {
    auto nz = c.reshape({-1}).masked_select(c.reshape({-1}) != 0);
    std::vector<float> v(nz.data_ptr<float>(), nz.data_ptr<float>() + nz.numel());
    w.add(it, layer, kind, mask, &v);
  } else {
    w.add(it, layer, kind, mask);
  }
}
}  // namespace

void TraceRecorder::add(uint32_t iteration) {
  const auto& table = writer_->header().layers;
  for (size_t i = 0; i < layers_.size(); ++i) {
    auto* l = layers_[i].layer;
    const auto& li = table[i];
    const auto layer = uint16_t(i);
    put(*writer_, iteration, layer, tr::TensorKind::InputAct, li.shape_of(tr::TensorKind::InputAct), l->rec_x, values_);
    put(*writer_, iteration, layer, tr::TensorKind::Weight, li.shape_of(tr::TensorKind::Weight), l->rec_w, values_);
    if (li.has(tr::TensorKind::SavedAct))
      put(*writer_, iteration, layer, tr::TensorKind::SavedAct, li.shape_of(tr::TensorKind::SavedAct), l->rec_xs, values_);
    put(*writer_, iteration, layer, tr::TensorKind::OutputGrad, li.shape_of(tr::TensorKind::OutputGrad), l->rec_dy, values_);
    l->clear_record();
  }
  ++written_;
}

void TraceRecorder::finish() { writer_->finish(); }

}  // namespace swatsim::frontend
