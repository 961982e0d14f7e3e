// Slicing and merging traces: streaming (one tensor in memory at a time), every blob checked as it is
// read (TraceReader), the output written atomically (TraceWriter).
#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "layout.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

namespace swatsim::traces {

namespace {

/// Copies one stored tensor, values and their stored type included.
void copy_record(TraceReader& in, const TensorRecord& r, TraceWriter& out, uint16_t layer, Mask& mask,
                 std::vector<float>& values) {
  in.read_into(r, mask, r.values == ValueType::None ? nullptr : &values);
  out.add(r.iteration, layer, r.kind, mask, r.values == ValueType::None ? nullptr : &values, r.values);
}

/// What makes two traces different runs: everything but the producer must agree.
std::string header_difference(const TraceHeader& a, const TraceHeader& b) {
  if (a.model != b.model) return fmt::format("model '{}' vs '{}'", a.model, b.model);
  if (a.dataset != b.dataset) return fmt::format("dataset '{}' vs '{}'", a.dataset, b.dataset);
  if (a.batch_size != b.batch_size) return fmt::format("batch size {} vs {}", a.batch_size, b.batch_size);
  if (a.seed != b.seed) return fmt::format("seed {} vs {}", a.seed, b.seed);
  const SwatSettings &x = a.swat, &y = b.swat;
  if (x.sparsity != y.sparsity || x.activation_sparsity != y.activation_sparsity || x.distribution != y.distribution ||
      x.structure != y.structure || x.topk_period != y.topk_period || x.sparsify_first != y.sparsify_first)
    return "SWAT settings differ";
  if (a.layers.size() != b.layers.size()) return fmt::format("{} vs {} layers", a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    TraceHeader one, other;
    one.layers = {a.layers[i]};
    other.layers = {b.layers[i]};
    if (layout::header_to_json(one)["layers"] != layout::header_to_json(other)["layers"])
      return fmt::format("layer {} ('{}' vs '{}') differs", i, a.layers[i].name, b.layers[i].name);
  }
  return "";
}

}  // namespace

void slice_trace(const std::string& in_path, const std::string& out_path, const std::vector<uint32_t>& iterations,
                 const std::vector<uint32_t>& layers, const TraceWriter::Options& options) {
  TraceReader in(in_path);
  TraceHeader header = in.header();
  header.layers.clear();
  std::map<uint16_t, uint16_t> renumber;  // old layer index -> new
  for (uint32_t l : layers) {
    renumber[uint16_t(l)] = uint16_t(header.layers.size());
    header.layers.push_back(in.header().layers.at(l));
  }
  TraceWriter out(out_path, header, options);
  Mask mask;
  std::vector<float> values;
  for (const TensorRecord& r : in.records()) {  // sorted by (iteration, layer, kind)
    const auto layer = renumber.find(r.layer);
    if (layer == renumber.end() || !std::binary_search(iterations.begin(), iterations.end(), r.iteration)) continue;
    copy_record(in, r, out, layer->second, mask, values);
  }
  out.finish();
}

void merge_traces(const std::vector<std::string>& inputs, const std::string& out_path) {
  if (inputs.empty()) throw InputError("command line", "merge needs at least one trace");
  std::vector<std::unique_ptr<TraceReader>> in;
  std::map<uint32_t, size_t> owner;  // iteration -> input
  for (size_t i = 0; i < inputs.size(); ++i) {
    in.push_back(std::make_unique<TraceReader>(inputs[i]));
    if (i > 0) {
      if (std::string d = header_difference(in[0]->header(), in[i]->header()); !d.empty())
        throw InputError(inputs[i], fmt::format("not the same run as {}: {}", inputs[0], d));
    }
    for (uint32_t it : in[i]->iterations()) {
      auto [pos, fresh] = owner.emplace(it, i);
      if (!fresh)
        throw InputError(inputs[i], fmt::format("iteration {} is also in {}: merge takes each iteration once", it,
                                                inputs[pos->second]));
    }
  }
  TraceWriter out(out_path, in[0]->header());
  Mask mask;
  std::vector<float> values;
  for (const auto& [iteration, i] : owner) {  // increasing iterations, as the writer requires
    const auto& recs = in[i]->records();        // sorted by (iteration, layer, kind)
    auto first = std::partition_point(recs.begin(), recs.end(),
                                      [it = iteration](const TensorRecord& r) { return r.iteration < it; });
    for (auto r = first; r != recs.end() && r->iteration == iteration; ++r) copy_record(*in[i], *r, out, r->layer, mask, values);
  }
  out.finish();
}

}  // namespace swatsim::traces
