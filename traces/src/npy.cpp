// NumPy dumps <-> traces (layout in docs/trace-format.md, "NumPy layout").
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "layout.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

namespace fs = std::filesystem;

namespace swatsim::traces {

namespace {

struct NpyArray {
  std::vector<uint32_t> shape;
  std::vector<float> data;
};

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
  if (exp == 0x1f) bits = sign | 0x7f800000u | (mant << 13);  // inf / NaN
  else if (exp != 0) bits = sign | ((exp + 112) << 23) | (mant << 13);
  else if (mant == 0) bits = sign;
  else {  // subnormal half: normalise
    exp = 113;
    while (!(mant & 0x400u)) mant <<= 1, --exp;
    bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(p.string(), std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses the header dict of a .npy file: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
NpyArray read_npy(const fs::path& path) {
  const std::string file = path.string();
  const std::string bytes = read_file(path);
  auto fail = [&](const std::string& what) -> void { throw InputError(file, what); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail("not a .npy file (bad magic)");
  const int major = uint8_t(bytes[6]);
  size_t header_len, data_start;
  if (major == 1) {
    header_len = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8;
    data_start = 10 + header_len;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    data_start = 12 + header_len;
  } else {
    fail(fmt::format("unsupported .npy version {}", major));
    return {};
  }
  if (data_start > bytes.size()) fail("truncated .npy header");
  const std::string dict = bytes.substr(data_start - header_len, header_len);
  auto value_after = [&](const std::string& key) -> size_t {
    size_t k = dict.find("'" + key + "'");
    if (k == std::string::npos) fail("npy header has no '" + key + "'");
    size_t colon = dict.find(':', k);
    if (colon == std::string::npos) fail("malformed npy header");
    return dict.find_first_not_of(" ", colon + 1);
  };
  size_t d = value_after("descr");
  if (d == std::string::npos || (dict[d] != '\'' && dict[d] != '"')) fail("malformed 'descr' in npy header");
  const size_t dend = dict.find(dict[d], d + 1);
  const std::string descr = dict.substr(d + 1, dend - d - 1);
  size_t f = value_after("fortran_order");
  if (dict.compare(f, 4, "True") == 0) fail("Fortran-order arrays are not supported (expected C order)");
  size_t s = value_after("shape");
  if (s == std::string::npos || dict[s] != '(') fail("malformed 'shape' in npy header");
  const size_t send = dict.find(')', s);
  NpyArray arr;
  std::string dims = dict.substr(s + 1, send - s - 1);
  std::stringstream ds(dims);
  for (std::string tok; std::getline(ds, tok, ',');) {
    tok.erase(0, tok.find_first_not_of(" "));
    tok.erase(tok.find_last_not_of(" L") + 1);
    if (tok.empty()) continue;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(tok.c_str(), &end, 10);
    if (*end != '\0' || v > 0xffffffffull) fail("malformed 'shape' in npy header: " + dims);
    arr.shape.push_back(uint32_t(v));
  }
  if (descr.size() != 3 || descr[1] != 'f' || (descr[2] != '2' && descr[2] != '4' && descr[2] != '8') ||
      (descr[0] != '<' && descr[0] != '>' && descr[0] != '='))
    fail(fmt::format("dtype '{}' is not supported (expected float16, float32 or float64)", descr));
  const bool swap = descr[0] == '>';
  const size_t width = size_t(descr[2] - '0');
  uint64_t n = 1;
  for (uint32_t v : arr.shape) n *= v;
  if (bytes.size() - data_start != n * width)
    fail(fmt::format("holds {} data bytes, but shape {} of {} needs {} (truncated?)", bytes.size() - data_start,
                     dims, descr, n * width));
  arr.data.resize(n);
  const char* p = bytes.data() + data_start;
  for (uint64_t i = 0; i < n; ++i, p += width) {
    uint8_t b[8];
    std::memcpy(b, p, width);
    if (swap) std::reverse(b, b + width);
    if (width == 2) {
      uint16_t h;
      std::memcpy(&h, b, 2);
      arr.data[i] = half_to_float(h);
    } else if (width == 4) {
      std::memcpy(&arr.data[i], b, 4);
    } else {
      double v;
      std::memcpy(&v, b, 8);
      arr.data[i] = float(v);
    }
  }
  return arr;
}


void write_npy(const fs::path& path, const Shape& shape, const std::vector<float>& data) {
  std::string dict = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}, {}, {}), }}",
                                 shape.dims[0], shape.dims[1], shape.dims[2], shape.dims[3]);
  // Pad so that the data start is 64-byte aligned, header ends with '\n' (npy format 1.0).
  const size_t total = ((10 + dict.size() + 1 + 63) / 64) * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(dict.size() & 0xff);
  out += char(dict.size() >> 8);
  out += dict;
  out.append(reinterpret_cast<const char*>(data.data()), data.size() * 4);
  write_file_atomically(path.string(), [&](std::ostream& f) { f << out; });
}

Shape shape4(const NpyArray& a, const std::string& file) {
  if (a.shape.size() == 2) return Shape{{a.shape[0], a.shape[1], 1, 1}};  // (N,C) of a linear layer
  if (a.shape.size() != 4)
    throw InputError(file, fmt::format("expected a 4-D array (or 2-D for a linear layer), got {}-D", a.shape.size()));
  return Shape{{a.shape[0], a.shape[1], a.shape[2], a.shape[3]}};
}

bool valid_name(const std::string& n) {
  if (n.empty() || n == "." || n == "..") return false;
  for (char c : n)
    if (!(std::isalnum(uint8_t(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

struct CsvLayer {
  std::string name;
  uint32_t stride, padding;
  std::string kind;  // "", "conv" or "linear"
};

std::vector<CsvLayer> read_layers_csv(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string(), "cannot open (expected lines name,stride,padding in forward order)");
  std::vector<CsvLayer> layers;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || (no == 1 && line.rfind("name,", 0) == 0)) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string tok; std::getline(ss, tok, ',');) f.push_back(tok);
    const std::string where = fmt::format("{}: line {}", path.string(), no);
    if (f.size() != 3 && f.size() != 4) throw InputError(where, "expected name,stride,padding[,kind]");
    CsvLayer l;
    l.name = f[0];
    if (!valid_name(l.name)) throw InputError(where, "layer name must use letters, digits, '_', '-' and '.' only");
    auto num = [&](const std::string& s, const char* what, uint32_t lo) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || v < lo || v > 0xffffu)
        throw InputError(where, fmt::format("{} must be an integer >= {}, got '{}'", what, lo, s));
      return uint32_t(v);
    };
    l.stride = num(f[1], "stride", 1);
    l.padding = num(f[2], "padding", 0);
    if (f.size() == 4) {
      l.kind = f[3];
      if (l.kind != "conv" && l.kind != "linear") throw InputError(where, "kind must be conv or linear");
    }
    layers.push_back(l);
  }
  if (layers.empty()) throw InputError(path.string(), "no layers listed");
  return layers;
}

}  // namespace

TraceHeader npy_default_header(const std::string& dir) {
  const fs::path meta = fs::path(dir) / "trace-header.json";
  if (!fs::exists(meta)) {
    TraceHeader h;
    h.producer = "swatsim import-npy";
    h.model = "imported";
    h.dataset = "unknown";
    return h;
  }
  nlohmann::json j = nlohmann::json::parse(read_file(meta), nullptr, false);
  if (j.is_discarded()) throw InputError(meta.string(), "not valid JSON");
  TraceHeader h = layout::header_from_json(j, meta.string());
  h.layers.clear();
  return h;
}

void import_npy(const std::string& dir, const std::string& trace_path, NpyImportOptions options) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) throw InputError(dir, "not a directory");
  const auto csv = read_layers_csv(d / "layers.csv");
  TraceHeader header = options.header;
  header.layers.clear();
  // First pass: geometry only, so that the writer can be opened with the full layer table.
  std::vector<std::array<NpyArray, 4>> arrays;  // indexed by TensorKind; freed layer by layer below
  for (const auto& c : csv) {
    auto path_of = [&](const char* suffix) { return d / (c.name + suffix); };
    NpyArray act = read_npy(path_of("-act.npy"));
    NpyArray wgt = read_npy(path_of("-wgt.npy"));
    NpyArray grad = read_npy(path_of("-grad.npy"));
    const bool has_saved = fs::exists(path_of("-act_saved.npy"));
    NpyArray saved = has_saved ? read_npy(path_of("-act_saved.npy")) : NpyArray{};
    const Shape a = shape4(act, path_of("-act.npy").string()), w = shape4(wgt, path_of("-wgt.npy").string()),
                g = shape4(grad, path_of("-grad.npy").string());
    LayerInfo l;
    l.name = c.name;
    l.N = a.dims[0], l.C = a.dims[1], l.H = a.dims[2], l.W = a.dims[3];
    l.K = w.dims[0], l.R = w.dims[2], l.S = w.dims[3];
    l.stride = c.stride, l.padding = c.padding;
    l.groups = w.dims[1] ? l.C / w.dims[1] : 0;
    l.Ho = g.dims[2], l.Wo = g.dims[3];
    const bool one_by_one = l.H == 1 && l.W == 1 && l.R == 1 && l.S == 1;
    l.kind = c.kind.empty() ? (one_by_one ? LayerKind::Linear : LayerKind::Conv)
                            : (c.kind == "linear" ? LayerKind::Linear : LayerKind::Conv);
    if (!has_saved) l.tensors = {TensorKind::InputAct, TensorKind::Weight, TensorKind::OutputGrad};
    const std::string where = fmt::format("{}: layer {}", dir, c.name);
    if (w.dims[1] == 0 || l.C % w.dims[1] != 0)
      throw InputError(where, fmt::format("weight channels {} do not divide activation channels {}", w.dims[1], l.C));
    if (g.dims[0] != l.N || g.dims[1] != l.K)
      throw InputError(where, fmt::format("gradient shape {} disagrees with N={} and K={}", g.str(), l.N, l.K));
    if (has_saved && shape4(saved, path_of("-act_saved.npy").string()) != a)
      throw InputError(where, "saved activation shape differs from the input activation's");
    if (std::string err = check_layer(l); !err.empty()) throw InputError(where, err);
    header.layers.push_back(l);
    arrays.push_back({std::move(act), std::move(wgt), std::move(saved), std::move(grad)});
  }
  TraceWriter writer(trace_path, header);
  for (size_t i = 0; i < header.layers.size(); ++i) {
    const LayerInfo& l = header.layers[i];
    for (TensorKind k : {TensorKind::InputAct, TensorKind::Weight, TensorKind::SavedAct, TensorKind::OutputGrad}) {
      if (!l.has(k)) continue;
      const NpyArray& arr = arrays[i][size_t(k)];
      const Shape shape = l.shape_of(k);
      Mask m = Mask::from_values(shape, arr.data.data());
      std::vector<float> nz;
      if (options.store_values) {
        nz.reserve(m.count());
        for (float v : arr.data)
          if (v != 0.0f) nz.push_back(v);
      }
      writer.add(options.iteration, uint16_t(i), k, m, options.store_values ? &nz : nullptr, ValueType::F32);
    }
    arrays[i] = {};  // release this layer's arrays
  }
  writer.finish();
}

void export_npy(const std::string& trace_path, const std::string& dir, uint32_t iteration) {
  TraceReader reader(trace_path);
  const auto& h = reader.header();
  const auto its = reader.iterations();
  if (std::find(its.begin(), its.end(), iteration) == its.end())
    throw InputError(trace_path, fmt::format("iteration {} is not recorded", iteration));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir, "cannot create the directory: " + ec.message());
  std::string csv = "";
  for (size_t i = 0; i < h.layers.size(); ++i) {
    const LayerInfo& l = h.layers[i];
    if (!valid_name(l.name))
      throw InputError(fmt::format("{}: layer {}", trace_path, i), "name '" + l.name + "' cannot be a file name");
    const bool ambiguous = l.kind == LayerKind::Conv && l.H == 1 && l.W == 1 && l.R == 1 && l.S == 1;
    csv += fmt::format("{},{},{}{}\n", l.name, l.stride, l.padding, ambiguous ? ",conv" : "");
    static const char* suffix[kTensorKinds] = {"-act.npy", "-wgt.npy", "-act_saved.npy", "-grad.npy"};
    for (TensorKind k : l.tensors) {
      const TensorRecord* r = reader.find(iteration, uint16_t(i), k);
      if (!r) throw InputError(fmt::format("{}: iteration {}, layer {} ({}), {}", trace_path, iteration, i, l.name,
                                           to_string(k)), "missing");
      std::vector<float> values;
      Mask m = reader.read(*r, &values);
      std::vector<float> dense(m.numel(), 0.0f);
      size_t next = 0;
      for (uint64_t e = 0; e < m.numel(); ++e)
        if (m.test(e)) dense[e] = values.empty() ? 1.0f : values[next++];
      write_npy(fs::path(dir) / (l.name + suffix[size_t(k)]), r->shape, dense);
    }
  }
  TraceHeader meta = h;
  meta.layers.clear();
  write_file_atomically((fs::path(dir) / "trace-header.json").string(),
                        [&](std::ostream& f) { f << layout::header_to_json(meta).dump(2) << "\n"; });
  // layers.csv last: its presence marks a complete export.
  write_file_atomically((fs::path(dir) / "layers.csv").string(), [&](std::ostream& f) { f << csv; });
}

}  // namespace swatsim::traces
