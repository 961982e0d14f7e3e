// The trace header as JSON, and the binary index entry.
#include <libdeflate.h>

#include <fmt/format.h>

#include "layout.hpp"
#include "swatsim/common/error.hpp"

namespace swatsim::traces::layout {

using nlohmann::json;

uint32_t crc32(const void* data, size_t n) { return libdeflate_crc32(0, data, n); }

void encode_entry(const TensorRecord& r, uint8_t* out) {
  uint8_t* p = out;
  put<uint32_t>(p, r.iteration);
  put<uint16_t>(p, r.layer);
  put<uint8_t>(p, uint8_t(r.kind));
  put<uint8_t>(p, uint8_t(r.values));
  for (uint32_t d : r.shape.dims) put<uint32_t>(p, d);
  put<uint64_t>(p, r.nnz);
  put<uint64_t>(p, r.offset);
  put<uint64_t>(p, r.stored_size);
  put<uint64_t>(p, r.raw_size);
  put<uint32_t>(p, r.crc32);
  put<uint8_t>(p, r.codec);
  for (int i = 0; i < 3; ++i) put<uint8_t>(p, 0);
}

TensorRecord decode_entry(const uint8_t* in) {
  const uint8_t* p = in;
  TensorRecord r;
  r.iteration = get<uint32_t>(p);
  r.layer = get<uint16_t>(p);
  r.kind = TensorKind(get<uint8_t>(p));
  r.values = ValueType(get<uint8_t>(p));
  for (auto& d : r.shape.dims) d = get<uint32_t>(p);
  r.nnz = get<uint64_t>(p);
  r.offset = get<uint64_t>(p);
  r.stored_size = get<uint64_t>(p);
  r.raw_size = get<uint64_t>(p);
  r.crc32 = get<uint32_t>(p);
  r.codec = get<uint8_t>(p);
  return r;
}

json header_to_json(const TraceHeader& h) {
  json layers = json::array();
  for (const auto& l : h.layers) {
    json tensors = json::array();
    for (auto k : l.tensors) tensors.push_back(to_string(k));
    layers.push_back({{"name", l.name}, {"kind", to_string(l.kind)}, {"N", l.N}, {"C", l.C}, {"H", l.H},
                      {"W", l.W}, {"K", l.K}, {"R", l.R}, {"S", l.S}, {"stride", l.stride},
                      {"padding", l.padding}, {"groups", l.groups}, {"Ho", l.Ho}, {"Wo", l.Wo},
                      {"tensors", tensors}});
  }
  return {{"format", "swatsim-trace"},
          {"version", h.version},
          {"producer", {{"name", h.producer}, {"version", h.producer_version}}},
          {"model", h.model},
          {"dataset", h.dataset},
          {"seed", h.seed},
          {"batch_size", h.batch_size},
          {"swat",
           {{"sparsity", h.swat.sparsity},
            {"activation_sparsity", h.swat.activation_sparsity},
            {"distribution", h.swat.distribution},
            {"structure", h.swat.structure},
            {"topk_period", h.swat.topk_period},
            {"sparsify_first", h.swat.sparsify_first}}},
          {"layers", layers}};
}

namespace {

// Strict field access: every key must be known, present and of the right type.
class Fields {
public:
  Fields(const json& j, std::string path, const std::string& file) : j_(j), path_(std::move(path)), file_(file) {
    if (!j_.is_object()) fail(path_, "expected an object");
  }
  [[noreturn]] void fail(const std::string& key_path, const std::string& what) const {
    throw InputError(fmt::format("{}: header {}", file_, key_path.empty() ? "/" : key_path), what);
  }
  const json& at(const char* key) {
    seen_.push_back(key);
    auto it = j_.find(key);
    if (it == j_.end()) fail(path_ + "/" + key, "missing");
    return *it;
  }
  std::string str(const char* key) {
    const json& v = at(key);
    if (!v.is_string()) fail(path_ + "/" + key, "expected a string, got " + v.dump());
    return v.get<std::string>();
  }
  uint64_t uint(const char* key, uint64_t max) {
    const json& v = at(key);
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
      fail(path_ + "/" + key, fmt::format("expected an integer in [0, {}], got {}", max, v.dump()));
    return v.get<uint64_t>();
  }
  double real(const char* key, double lo, double hi_exclusive) {
    const json& v = at(key);
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() >= hi_exclusive)
      fail(path_ + "/" + key, fmt::format("expected a number in [{}, {}), got {}", lo, hi_exclusive, v.dump()));
    return v.get<double>();
  }
  bool boolean(const char* key) {
    const json& v = at(key);
    if (!v.is_boolean()) fail(path_ + "/" + key, "expected true or false, got " + v.dump());
    return v.get<bool>();
  }
  void no_unknown_keys() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (std::find(seen_.begin(), seen_.end(), it.key()) == seen_.end())
        fail(path_ + "/" + it.key(), "unknown key");
  }
  const std::string& path() const { return path_; }

private:
  const json& j_;
  std::string path_;
  const std::string& file_;
  std::vector<std::string> seen_;
};

constexpr uint64_t kU32 = 0xffffffffu;

}  // namespace

TraceHeader header_from_json(const json& j, const std::string& file) {
  TraceHeader h;
  Fields top(j, "", file);
  if (top.str("format") != "swatsim-trace") top.fail("/format", "expected \"swatsim-trace\"");
  h.version = uint32_t(top.uint("version", kU32));
  {
    Fields p(top.at("producer"), "/producer", file);
    h.producer = p.str("name");
    h.producer_version = p.str("version");
    p.no_unknown_keys();
  }
  h.model = top.str("model");
  h.dataset = top.str("dataset");
  h.seed = top.uint("seed", UINT64_MAX);
  h.batch_size = uint32_t(top.uint("batch_size", kU32));
  {
    Fields s(top.at("swat"), "/swat", file);
    h.swat.sparsity = s.real("sparsity", 0.0, 1.0);
    h.swat.activation_sparsity = s.real("activation_sparsity", 0.0, 1.0);
    h.swat.distribution = s.str("distribution");
    h.swat.structure = s.str("structure");
    h.swat.topk_period = uint32_t(s.uint("topk_period", kU32));
    h.swat.sparsify_first = s.boolean("sparsify_first");
    s.no_unknown_keys();
  }
  const json& layers = top.at("layers");
  if (!layers.is_array()) top.fail("/layers", "expected an array");
  if (layers.size() > 0xffff) top.fail("/layers", "more than 65535 layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    Fields f(layers[i], fmt::format("/layers/{}", i), file);
    LayerInfo l;
    l.name = f.str("name");
    const std::string kind = f.str("kind");
    if (kind == "conv") l.kind = LayerKind::Conv;
    else if (kind == "linear") l.kind = LayerKind::Linear;
    else f.fail(f.path() + "/kind", "expected \"conv\" or \"linear\", got \"" + kind + "\"");
    l.N = uint32_t(f.uint("N", kU32));
    l.C = uint32_t(f.uint("C", kU32));
    l.H = uint32_t(f.uint("H", kU32));
    l.W = uint32_t(f.uint("W", kU32));
    l.K = uint32_t(f.uint("K", kU32));
    l.R = uint32_t(f.uint("R", kU32));
    l.S = uint32_t(f.uint("S", kU32));
    l.stride = uint32_t(f.uint("stride", kU32));
    l.padding = uint32_t(f.uint("padding", kU32));
    l.groups = uint32_t(f.uint("groups", kU32));
    l.Ho = uint32_t(f.uint("Ho", kU32));
    l.Wo = uint32_t(f.uint("Wo", kU32));
    const json& tensors = f.at("tensors");
    if (!tensors.is_array()) f.fail(f.path() + "/tensors", "expected an array of tensor names");
    l.tensors.clear();
    for (size_t t = 0; t < tensors.size(); ++t) {
      auto k = tensors[t].is_string() ? tensor_kind_from_string(tensors[t].get<std::string>()) : std::nullopt;
      if (!k || l.has(*k))
        f.fail(fmt::format("{}/tensors/{}", f.path(), t),
               "expected one of input_act, weight, saved_act, output_grad, each once; got " + tensors[t].dump());
      l.tensors.push_back(*k);
    }
    f.no_unknown_keys();
    h.layers.push_back(std::move(l));
  }
  top.no_unknown_keys();
  return h;
}

}  // namespace swatsim::traces::layout
