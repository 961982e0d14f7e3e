// `swatsim trace validate` and `swatsim trace info`.
#include <filesystem>
#include <map>
#include <set>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

namespace swatsim::traces {

ValidateSummary validate(const std::string& path) {
  TraceReader reader(path);  // checks preamble, header, layer geometry, footer and index
  const auto& h = reader.header();
  ValidateSummary sum;
  const auto iterations = reader.iterations();
  sum.iterations = iterations.size();
  // Every recorded iteration must hold exactly the tensors each layer lists.
  for (uint32_t it : iterations)
    for (size_t l = 0; l < h.layers.size(); ++l)
      for (TensorKind k : h.layers[l].tensors)
        if (!reader.find(it, uint16_t(l), k))
          throw InputError(locate(path, h, it, uint32_t(l), k), "missing: the layer table lists it but the iteration does not store it");
  Mask mask;
  std::vector<float> values;
  for (const auto& r : reader.records()) {
    reader.read_into(r, mask, &values);
    for (float v : values)
      if (v == 0.0f)
        throw InputError(locate(path, h, r), "a stored value is zero where the mask has a non-zero");
    ++sum.tensors;
    sum.stored_bytes += r.stored_size;
    sum.bitmap_bytes += r.bitmap_bytes();
  }
  return sum;
}

/// Header text as the terminal should see it: control characters (ESC sequences, BEL) escaped.
static std::string printable(const std::string& s) { return escape_control(s); }

void print_info(const std::string& path, std::ostream& out) {
  TraceReader reader(path);
  const auto& h = reader.header();
  const auto iterations = reader.iterations();
  out << fmt::format("trace        {}\n", path);
  out << fmt::format("format       swatsim-trace v{}\n", h.version);
  out << fmt::format("producer     {} {}\n", printable(h.producer), printable(h.producer_version));
  out << fmt::format("model        {}\n", printable(h.model));
  out << fmt::format("dataset      {}\n", printable(h.dataset));
  out << fmt::format("swat         sparsity {} (activations {}), distribution {}, structure {}, top-K period {}, "
                     "first layer {}\n",
                     h.swat.sparsity, h.swat.activation_sparsity, printable(h.swat.distribution), printable(h.swat.structure),
                     h.swat.topk_period, h.swat.sparsify_first ? "sparse" : "dense");
  out << fmt::format("seed         {}\nbatch size   {}\n", h.seed, h.batch_size);
  std::string its;
  for (size_t i = 0; i < iterations.size() && i < 12; ++i) its += (i ? "," : "") + std::to_string(iterations[i]);
  if (iterations.size() > 12) its += fmt::format(",... ({} in all)", iterations.size());
  out << fmt::format("iterations   {}\n", iterations.empty() ? "none" : its);
  uint64_t stored = 0, bitmap = 0;
  std::map<ValueType, std::pair<uint64_t, std::set<std::string>>> by_values;  // tensors and kinds per value type
  for (const auto& r : reader.records()) {
    stored += r.stored_size, bitmap += r.bitmap_bytes();
    auto& v = by_values[r.values];
    ++v.first;
    v.second.insert(to_string(r.kind));
  }
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  out << fmt::format("tensors      {}: {} bytes stored in blobs (bitmap and non-zero values, zlib-compressed where that "
                     "saves >= 25%); the bitmaps alone are {} bytes\n",
                     reader.records().size(), stored, bitmap);
  std::string values;
  for (const auto& [type, v] : by_values)
    values += fmt::format("{}{} for {} tensors ({})", values.empty() ? "" : "; ",
                          type == ValueType::None ? std::string("masks only") : std::string(to_string(type)) + " values",
                          v.first, fmt::format("{}", fmt::join(v.second, ", ")));
  out << fmt::format("values       {}\n", values.empty() ? "no tensors" : values);
  out << fmt::format("file         {} bytes: the blobs, the JSON header and the index (64 bytes per tensor)\n\n",
                     ec ? 0 : file_size);

  // Densities come from the index (non-zero counts), so info reads no blob.
  std::map<std::pair<uint16_t, int>, std::pair<double, int>> density;
  for (const auto& r : reader.records()) {
    auto& d = density[{r.layer, int(r.kind)}];
    d.first += double(r.nnz) / double(r.shape.numel());
    d.second += 1;
  }
  out << fmt::format("{:>3} {:<20} {:<6} {:>4} {:>5} {:>9} {:>5} {:>5} {:>3} {:>3} {:>9}   {:>9} {:>9} {:>9} {:>11}\n",
                     "#", "layer", "kind", "N", "C", "HxW", "K", "RxS", "st", "pad", "HoxWo", "input_act", "weight",
                     "saved_act", "output_grad");
  for (size_t l = 0; l < h.layers.size(); ++l) {
    const auto& L = h.layers[l];
    std::string cols;
    for (int k = 0; k < kTensorKinds; ++k) {
      auto it = density.find({uint16_t(l), k});
      const int width = k == 3 ? 11 : 9;
      if (it == density.end())
        cols += fmt::format(" {:>{}}", L.has(TensorKind(k)) ? "-" : "=input", width);
      else
        cols += fmt::format(" {:>{}.4f}", it->second.first / it->second.second, width);
    }
    out << fmt::format("{:>3} {:<20} {:<6} {:>4} {:>5} {:>9} {:>5} {:>5} {:>3} {:>3} {:>9}  {}\n", l, printable(L.name),
                       to_string(L.kind), L.N, L.C, fmt::format("{}x{}", L.H, L.W), L.K,
                       fmt::format("{}x{}", L.R, L.S), L.stride, L.padding, fmt::format("{}x{}", L.Ho, L.Wo), cols);
  }
  out << "\ndensities: fraction of non-zeros, mean over the recorded iterations; "
         "'=input': saved activation not stored, equals input_act\n";
}

}  // namespace swatsim::traces
