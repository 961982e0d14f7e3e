// NumPy dumps <-> traces (layout in docs/trace-format.md, "NumPy layout").
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "layout.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/common/strict_json.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

namespace fs = std::filesystem;

namespace swatsim::traces {

namespace {

constexpr const char* kSuffix[kTensorKinds] = {"act", "wgt", "act_saved", "grad"};  // by TensorKind
std::string stem(const std::string& layer, TensorKind k) { return layer + "-" + kSuffix[size_t(k)]; }

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

/// Opening a FIFO blocks and a directory reads as nothing: only regular files are inputs.
void require_regular_file(const fs::path& p) {
  std::error_code ec;
  const auto st = fs::status(p, ec);
  if (!ec && fs::exists(st) && !fs::is_regular_file(st))
    throw InputError(p.string(), fs::is_directory(st) ? "is a directory, not a file"
                                                      : "is not a regular file (a FIFO or device)");
}

std::string read_text(const fs::path& p) {
  require_regular_file(p);
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(p.string(), std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Header text for a message: control and non-ASCII bytes as \xNN, at most 80 characters.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? std::string(1, char(c)) : fmt::format("\\x{:02x}", c);
  return s.size() > 80 ? out + "..." : out;
}

// A .npy file whose header has been read and checked; the data are read on demand.
class NpyFile {
public:
  explicit NpyFile(fs::path path) : path_(std::move(path)) {
    const std::string file = path_.string();
    require_regular_file(path_);
    std::ifstream in(path_, std::ios::binary);  // closed again here: a model may have thousands of files
    if (!in) throw InputError(file, std::string("cannot open: ") + std::strerror(errno));
    char pre[12] = {};
    in.read(pre, 10);
    if (in.gcount() != 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0) fail("not a .npy file (bad magic)");
    const int major = uint8_t(pre[6]);
    uint64_t header_len;
    if (major == 1) {
      header_len = uint8_t(pre[8]) | uint64_t(uint8_t(pre[9])) << 8;
      data_start_ = 10 + header_len;
    } else if (major == 2 || major == 3) {
      in.read(pre + 10, 2);
      if (in.gcount() != 2) fail("truncated .npy header");
      header_len = 0;
      for (int i = 0; i < 4; ++i) header_len |= uint64_t(uint8_t(pre[8 + i])) << (8 * i);
      data_start_ = 12 + header_len;
    } else {
      fail(fmt::format("unsupported .npy format version {}", major));
    }
    if (header_len > (1u << 20)) fail("implausible .npy header length");
    std::string dict(header_len, '\0');
    in.read(dict.data(), std::streamsize(header_len));
    if (uint64_t(in.gcount()) != header_len) fail("truncated .npy header");
    parse_dict(dict);
    in.seekg(0, std::ios::end);
    const uint64_t size = uint64_t(in.tellg());
    if (size < data_start_ || size - data_start_ != numel_ * width_)
      fail(fmt::format("holds {} data bytes, but shape {} of {} needs {} (truncated?)",
                       size < data_start_ ? 0 : size - data_start_, shape_str(), descr_, numel_ * width_));
  }

  const std::vector<uint32_t>& shape() const { return shape_; }
  std::string file() const { return path_.string(); }

  /// The shape as N,C,H,W ((N,C) of a linear layer is (N,C,1,1)).
  Shape shape4() const {
    if (shape_.size() == 2) return Shape{{shape_[0], shape_[1], 1, 1}};
    if (shape_.size() != 4) fail(fmt::format("expected a 4-D array (or 2-D for a linear layer), got {}-D", shape_.size()));
    return Shape{{shape_[0], shape_[1], shape_[2], shape_[3]}};
  }

  /// Reads the array into `mask` (its non-zeros; `shape` has the array's element count) and, if
  /// `nonzeros` is given, its non-zero values as float32 in order. Streams the file in chunks, so
  /// memory stays at the mask and the values kept. A non-zero float64 below float32's range becomes
  /// the smallest float32 of its sign instead of 0, so the mask is the array's own non-zeros.
  void read_mask(const Shape& shape, Mask& mask, std::vector<float>* nonzeros) {
    if (shape.numel() != numel_) fail(fmt::format("holds {} elements, expected {}", numel_, shape.numel()));
    mask.reshape_for_overwrite(shape);
    if (nonzeros) nonzeros->clear();
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path_.c_str(), "rb"), &std::fclose);
    if (!in || std::fseek(in.get(), long(data_start_), SEEK_SET) != 0)
      fail(std::string("cannot open: ") + std::strerror(errno));
    constexpr uint64_t kChunk = 1 << 16;  // elements per read: a multiple of 64 (whole mask words)
    raw_.resize(kChunk * width_);
    floats_.resize(kChunk);
    const bool swap = descr_[0] == '>';
    uint64_t* words = mask.words().data();
    for (uint64_t base = 0; base < numel_; base += kChunk) {
      const uint64_t n = std::min(kChunk, numel_ - base);
      if (std::fread(raw_.data(), width_, n, in.get()) != n) fail("cannot read the data");
      float* f = floats_.data();
      if (width_ == 4 && !swap) {
        std::memcpy(f, raw_.data(), n * 4);
      } else {
        for (uint64_t i = 0; i < n; ++i) {
          uint8_t b[8];
          std::memcpy(b, raw_.data() + i * width_, width_);
          if (swap) std::reverse(b, b + width_);
          if (width_ == 2) {
            uint16_t h;
            std::memcpy(&h, b, 2);
            f[i] = half_to_float(h);
          } else if (width_ == 4) {
            std::memcpy(&f[i], b, 4);
          } else {
            double v;
            std::memcpy(&v, b, 8);
            f[i] = float(v);
            if (f[i] == 0.0f && v != 0.0) f[i] = std::copysign(FLT_TRUE_MIN, float(v));
            if (std::isfinite(v) && !std::isfinite(f[i])) f[i] = std::copysign(FLT_MAX, float(v));  // beyond float32
          }
        }
      }
      for (uint64_t i = 0; i < n; ++i)
        if (!std::isfinite(f[i]))
          fail(fmt::format("element {} is {}: a dump of a finished training step has finite values", base + i,
                           std::isnan(f[i]) ? "NaN" : "infinite"));
      for (uint64_t g = 0; g < n; g += 64) {
        const uint64_t end = std::min<uint64_t>(n - g, 64);
        uint64_t w = 0;
        for (uint64_t j = 0; j < end; ++j) w |= uint64_t(f[g + j] != 0.0f) << j;
        words[(base + g) >> 6] = w;
        if (nonzeros && w)
          for (uint64_t j = 0; j < end; ++j)
            if (f[g + j] != 0.0f) nonzeros->push_back(f[g + j]);
      }
    }
  }

private:
  [[noreturn]] void fail(const std::string& what) const { throw InputError(path_.string(), what); }

  std::string shape_str() const {
    std::string s = "(";
    for (uint32_t d : shape_) s += std::to_string(d) + ",";
    return s + ")";
  }

  // {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
  void parse_dict(const std::string& dict) {
    auto value_of = [&](const char* key) -> size_t {
      const size_t k = dict.find(std::string("'") + key + "'");
      if (k == std::string::npos) fail(std::string("npy header has no '") + key + "'");
      const size_t colon = dict.find(':', k);
      const size_t v = colon == std::string::npos ? colon : dict.find_first_not_of(' ', colon + 1);
      if (v == std::string::npos) fail(std::string("npy header has no value for '") + key + "'");
      return v;
    };
    const size_t d = value_of("descr");
    const size_t dend = (dict[d] == '\'' || dict[d] == '"') ? dict.find(dict[d], d + 1) : std::string::npos;
    if (dend == std::string::npos) fail("malformed 'descr' in npy header");
    descr_ = dict.substr(d + 1, dend - d - 1);
    const size_t f = value_of("fortran_order");
    if (dict.compare(f, 4, "True") == 0) fail("Fortran-order arrays are not supported (expected C order)");
    if (dict.compare(f, 5, "False") != 0) fail("malformed 'fortran_order' in npy header (expected True or False)");
    const size_t s = value_of("shape");
    const size_t send = dict[s] == '(' ? dict.find(')', s) : std::string::npos;
    if (send == std::string::npos) fail("malformed 'shape' in npy header");
    const std::string dims = dict.substr(s + 1, send - s - 1);
    std::stringstream ds(dims);
    numel_ = 1;
    for (std::string tok; std::getline(ds, tok, ',');) {
      tok.erase(0, tok.find_first_not_of(' '));
      tok.erase(tok.find_last_not_of(" L") + 1);
      if (tok.empty()) continue;
      char* end = nullptr;
      errno = 0;
      const unsigned long long v = std::strtoull(tok.c_str(), &end, 10);
      if (*end != '\0' || errno != 0 || v > 0xffffffffull || tok[0] == '-') fail("malformed 'shape' in npy header: (" + printable(dims) + ")");
      shape_.push_back(uint32_t(v));
      if (__builtin_mul_overflow(numel_, uint64_t(v), &numel_) || numel_ > kMaxTensorElements)
        fail(fmt::format("shape ({}) exceeds {} elements", dims, kMaxTensorElements));
    }
    if (descr_.size() != 3 || descr_[1] != 'f' || (descr_[2] != '2' && descr_[2] != '4' && descr_[2] != '8') ||
        (descr_[0] != '<' && descr_[0] != '>' && descr_[0] != '='))
      fail(fmt::format("dtype '{}' is not supported (expected float16, float32 or float64)", printable(descr_)));
    width_ = size_t(descr_[2] - '0');
  }

  fs::path path_;
  std::vector<uint32_t> shape_;
  std::string descr_;
  uint64_t numel_ = 0, data_start_ = 0;
  size_t width_ = 4;
  std::vector<char> raw_;      // one chunk of the file
  std::vector<float> floats_;  // the same chunk as float32
};

void write_npy(const fs::path& path, const Shape& shape, const std::vector<float>& data) {
  std::string dict = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}, {}, {}), }}",
                                 shape.dims[0], shape.dims[1], shape.dims[2], shape.dims[3]);
  // Pad so that the data start is 64-byte aligned, header ends with '\n' (npy format 1.0).
  const size_t total = ((10 + dict.size() + 1 + 63) / 64) * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  write_file_atomically(path.string(), [&](std::ostream& f) {
    f << "\x93NUMPY" << char(1) << char(0) << char(dict.size() & 0xff) << char(dict.size() >> 8) << dict;
    f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size() * 4));
  });
}

struct CsvLayer {
  std::string name;
  uint32_t stride, padding;
  std::string kind;  // "", "conv" or "linear"
};

// name,stride,padding[,kind][,dilation]; stride, padding and dilation may be written HxW ("1x2").
std::vector<CsvLayer> read_layers_csv(const fs::path& path) {
  require_regular_file(path);
  std::ifstream in(path);
  if (!in) throw InputError(path.string(), "cannot open (expected lines name,stride,padding in forward order)");
  std::vector<CsvLayer> layers;
  std::set<std::string> names;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || (no == 1 && line.rfind("name,", 0) == 0)) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string tok; std::getline(ss, tok, ',');) f.push_back(tok);
    const std::string where = fmt::format("{}: line {}", path.string(), no);
    if (line.back() == ',') throw InputError(where, "a trailing comma: expected name,stride,padding[,kind][,dilation]");
    if (f.size() < 3 || f.size() > 5) throw InputError(where, "expected name,stride,padding[,kind][,dilation]");
    CsvLayer l;
    l.name = f[0];
    if (!valid_layer_name(l.name)) throw InputError(where, "layer name must be 1-255 letters, digits, '_', '-' or '.'");
    if (!names.insert(l.name).second) throw InputError(where, "layer '" + l.name + "' is listed twice");
    auto num = [&](const std::string& s, const char* what, uint32_t lo) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || v < lo || v > 0xffffu || s[0] == '-')
        throw InputError(where, fmt::format("{} must be an integer >= {}, got '{}'", what, lo, s));
      return uint32_t(v);
    };
    // One value, or HxW: unequal ones are refused by name (the trace format has one of each).
    auto square = [&](const std::string& s, const char* what, uint32_t lo) {
      const auto x = s.find('x');
      if (x == std::string::npos) return num(s, what, lo);
      const uint32_t h = num(s.substr(0, x), what, lo), w = num(s.substr(x + 1), what, lo);
      if (h != w)
        throw InputError(where, fmt::format("layer '{}': unequal {} {}x{} (rows {}, columns {}) is not supported: "
                                            "the trace format has one {} per layer",
                                            l.name, what, h, w, h, w, what));
      return h;
    };
    l.stride = square(f[1], "stride", 1);
    l.padding = square(f[2], "padding", 0);
    if (f.size() >= 4 && !f[3].empty()) {
      l.kind = f[3];
      if (l.kind != "conv" && l.kind != "linear") throw InputError(where, "kind must be conv or linear");
    }
    if (f.size() == 5) {
      const uint32_t dilation = square(f[4], "dilation", 1);
      if (dilation != 1)
        throw InputError(where, fmt::format("layer '{}': a dilated convolution (dilation {}) is not supported: the "
                                            "PE models and the trace format have no dilation",
                                            l.name, dilation));
    }
    layers.push_back(l);
  }
  if (layers.empty()) throw InputError(path.string(), "no layers listed");
  return layers;
}

/// When the dumps' output size disagrees with stride and padding, what would explain it.
std::string geometry_hint(const LayerInfo& l) {
  auto out = [](uint32_t in, uint32_t pad, uint32_t k, uint32_t dil, uint32_t stride) -> int64_t {
    const int64_t span = int64_t(dil) * (int64_t(k) - 1) + 1;
    return (int64_t(in) + 2 * int64_t(pad) - span) / stride + 1;
  };
  for (uint32_t d = 2; d <= 16; ++d)
    if (out(l.H, l.padding, l.R, d, l.stride) == l.Ho && out(l.W, l.padding, l.S, d, l.stride) == l.Wo)
      return fmt::format("; a dilated convolution (dilation {}) gives that size, and dilation is not supported", d);
  for (uint32_t ph = 0; ph <= 32; ++ph)
    for (uint32_t pw = 0; pw <= 32; ++pw)
      if (ph != pw && out(l.H, ph, l.R, 1, l.stride) == l.Ho && out(l.W, pw, l.S, 1, l.stride) == l.Wo)
        return fmt::format("; unequal padding {}x{} gives that size, and unequal padding is not supported", ph, pw);
  return "";
}

ValueType value_type_from_string(const std::string& s, const std::string& where) {
  for (ValueType v : {ValueType::None, ValueType::F32, ValueType::BF16})
    if (s == to_string(v)) return v;
  throw InputError(where, "expected a value type none, f32 or bf16, got '" + s + "'");
}

}  // namespace

/// A small JSON file of an npy run: strict (no repeated key, bounded nesting), one error line.
static nlohmann::json parse_json_file(const std::string& text, const std::string& file) {
  try {
    return parse_json_strict<nlohmann::json>(text, file);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, std::string("not valid JSON: ") + e.what());
  }
}

NpyImportOptions npy_default_options(const std::string& dir) {
  NpyImportOptions o;
  const fs::path meta = fs::path(dir) / "trace-header.json";
  if (fs::exists(meta)) {
    const nlohmann::json j = parse_json_file(read_text(meta), meta.string());
    o.header = layout::header_from_json(j, meta.string());
    o.header.layers.clear();
  } else {
    o.header.producer = "swatsim import-npy";
    o.header.model = "imported";
    o.header.dataset = "unknown";
    o.batch_from_dumps = true;
  }
  const fs::path exp = fs::path(dir) / "trace-export.json";
  if (fs::exists(exp)) {
    const std::string file = exp.string();
    const nlohmann::json j = parse_json_file(read_text(exp), file);
    if (!j.is_object()) throw InputError(file, "not a JSON object");
    if (!j.contains("iteration") || !j["iteration"].is_number_unsigned() || j["iteration"].get<uint64_t>() > 0xffffffffu)
      throw InputError(file + ": /iteration", "expected an unsigned 32-bit integer");
    o.iteration = j["iteration"].get<uint32_t>();
    if (!j.contains("values") || !j["values"].is_object()) throw InputError(file + ": /values", "expected an object");
    for (auto it = j["values"].begin(); it != j["values"].end(); ++it) {
      if (!it->is_string()) throw InputError(file + ": /values/" + it.key(), "expected a string");
      o.value_overrides[it.key()] = value_type_from_string(it->get<std::string>(), file + ": /values/" + it.key());
    }
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "iteration" && it.key() != "values") throw InputError(file + ": /" + it.key(), "unknown key");
  }
  return o;
}

namespace {

/// One iteration's dump directory opened: its layer table and the headers of its .npy files (the
/// data are read one tensor at a time, when written).
struct DumpDir {
  std::vector<LayerInfo> layers;
  std::vector<std::array<std::unique_ptr<NpyFile>, kTensorKinds>> files;
};

DumpDir open_dump_dir(const std::string& dir, bool ignore_unlisted) {
  const fs::path d(dir);
  std::error_code ec;
  if (!fs::exists(d, ec)) throw InputError(dir, "does not exist (expected a directory of .npy dumps)");
  if (!fs::is_directory(d, ec)) throw InputError(dir, "not a directory (expected a directory of .npy dumps)");
  const auto csv = read_layers_csv(d / "layers.csv");
  DumpDir out;
  std::set<std::string> listed;
  for (const auto& c : csv) {
    auto path_of = [&](TensorKind k) { return d / (stem(c.name, k) + ".npy"); };
    for (int k = 0; k < kTensorKinds; ++k) listed.insert(stem(c.name, TensorKind(k)) + ".npy");
    std::array<std::unique_ptr<NpyFile>, kTensorKinds> f;
    for (TensorKind k : {TensorKind::InputAct, TensorKind::Weight, TensorKind::OutputGrad})
      f[size_t(k)] = std::make_unique<NpyFile>(path_of(k));
    if (fs::exists(path_of(TensorKind::SavedAct)))
      f[size_t(TensorKind::SavedAct)] = std::make_unique<NpyFile>(path_of(TensorKind::SavedAct));
    const Shape a = f[0]->shape4(), w = f[1]->shape4(), g = f[3]->shape4();
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
    if (!f[2]) l.tensors = {TensorKind::InputAct, TensorKind::Weight, TensorKind::OutputGrad};
    const std::string where = fmt::format("{}: layer {}", dir, c.name);
    if (w.dims[1] == 0 || l.C % w.dims[1] != 0)
      throw InputError(where, fmt::format("weight channels {} do not divide activation channels {}", w.dims[1], l.C));
    if (g.dims[0] != l.N || g.dims[1] != l.K)
      throw InputError(where, fmt::format("gradient shape {} disagrees with N={} and K={}", g.str(), l.N, l.K));
    if (f[2] && f[2]->shape4() != a) throw InputError(where, "saved activation shape differs from the input activation's");
    if (std::string err = check_layer(l); !err.empty()) throw InputError(where, err + geometry_hint(l));
    out.layers.push_back(l);
    out.files.push_back(std::move(f));
  }
  if (!ignore_unlisted) {
    std::vector<std::string> unlisted;
    for (const auto& e : fs::directory_iterator(d)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0 && !listed.count(name))
        unlisted.push_back(name);
    }
    std::sort(unlisted.begin(), unlisted.end());
    if (!unlisted.empty())
      throw InputError(dir, fmt::format("{} is not a tensor of a layer that layers.csv lists ({} such file{}); list "
                                        "its layer, or --ignore-unlisted",
                                        unlisted[0], unlisted.size(), unlisted.size() > 1 ? "s" : ""));
  }
  return out;
}

}  // namespace

void import_npy(const std::vector<NpyIteration>& iterations, const std::string& trace_path, NpyImportOptions options) {
  if (iterations.empty()) throw InputError("command line", "no dump directory to import");
  std::vector<NpyIteration> its = iterations;
  std::stable_sort(its.begin(), its.end(), [](const auto& a, const auto& b) { return a.iteration < b.iteration; });
  for (size_t i = 1; i < its.size(); ++i)
    if (its[i].iteration == its[i - 1].iteration)
      throw InputError(its[i].dir, fmt::format("iteration {} is also {}", its[i].iteration, its[i - 1].dir));
  TraceHeader header = options.header;
  DumpDir first = open_dump_dir(its[0].dir, options.ignore_unlisted);
  header.layers = first.layers;
  if (options.batch_from_dumps) header.batch_size = header.layers.front().N;
  const auto table = layout::header_to_json(header)["layers"];
  TraceWriter writer(trace_path, header);
  Mask mask;
  std::vector<float> nonzeros;
  for (size_t n = 0; n < its.size(); ++n) {
    DumpDir dump = n == 0 ? std::move(first) : open_dump_dir(its[n].dir, options.ignore_unlisted);
    if (n > 0) {
      TraceHeader h;
      h.layers = dump.layers;
      if (layout::header_to_json(h)["layers"] != table)
        throw InputError(its[n].dir, fmt::format("its layer table differs from {}'s: every iteration of a trace has "
                                                 "the same layers and shapes",
                                                 its[0].dir));
    }
    for (size_t i = 0; i < dump.layers.size(); ++i) {
      const LayerInfo& l = dump.layers[i];
      for (TensorKind k : l.tensors) {
        auto ov = options.value_overrides.find(stem(l.name, k));
        const ValueType vt = ov != options.value_overrides.end() ? ov->second : options.values;
        dump.files[i][size_t(k)]->read_mask(l.shape_of(k), mask, vt == ValueType::None ? nullptr : &nonzeros);
        writer.add(its[n].iteration, uint16_t(i), k, mask, vt == ValueType::None ? nullptr : &nonzeros, vt);
        dump.files[i][size_t(k)].reset();
      }
    }
  }
  writer.finish();
}

void import_npy(const std::string& dir, const std::string& trace_path, NpyImportOptions options) {
  import_npy({NpyIteration{dir, options.iteration}}, trace_path, std::move(options));
}

uint32_t export_npy(const std::string& trace_path, const std::string& dir, std::optional<uint32_t> iteration) {
  TraceReader reader(trace_path);
  const auto& h = reader.header();
  const auto its = reader.iterations();
  if (its.empty()) throw InputError(trace_path, "holds no iteration");
  const uint32_t it = iteration.value_or(its.front());
  if (std::find(its.begin(), its.end(), it) == its.end())
    throw InputError(trace_path, fmt::format("iteration {} is not recorded", it));
  fs::path target = fs::path(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // "out/" -> "out"
  if (target.empty() || target == "." || target == "..") throw InputError(dir, "export-npy needs a new directory name");
  std::error_code ec;
  if (fs::exists(target, ec) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec)))
    throw InputError(dir, "already exists and is not an empty directory (export-npy writes a new one)");

  // Everything goes into a fresh temporary directory beside it, renamed into place when complete.
  const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw InputError(tmp.string(), "cannot create the directory: " + ec.message());
  struct Cleanup {  // on an error, and (through the signal handler) on SIGINT/SIGTERM
    fs::path p;
    int slot;
    ~Cleanup() {
      swatsim::detail::unregister_temporary(slot);
      std::error_code e;
      if (!p.empty()) fs::remove_all(p, e);
    }
  } cleanup{tmp, swatsim::detail::register_temporary(tmp.string(), true)};

  std::string csv;
  nlohmann::json value_types = nlohmann::json::object();
  Mask mask;
  std::vector<float> values;
  for (size_t i = 0; i < h.layers.size(); ++i) {
    const LayerInfo& l = h.layers[i];
    const bool ambiguous = l.kind == LayerKind::Conv && l.H == 1 && l.W == 1 && l.R == 1 && l.S == 1;
    csv += fmt::format("{},{},{}{}\n", l.name, l.stride, l.padding, ambiguous ? ",conv" : "");
    for (TensorKind k : l.tensors) {
      const TensorRecord* r = reader.find(it, uint16_t(i), k);
      if (!r) throw InputError(locate(trace_path, h, it, uint32_t(i), k), "missing");
      reader.read_into(*r, mask, &values);
      std::vector<float> dense(mask.numel(), 0.0f);
      size_t next = 0;
      for (uint64_t e = 0; e < mask.numel(); ++e)
        if (mask.test(e)) dense[e] = values.empty() ? 1.0f : values[next++];
      write_npy(tmp / (stem(l.name, k) + ".npy"), r->shape, dense);
      value_types[stem(l.name, k)] = to_string(r->values);
    }
  }
  TraceHeader meta = h;
  meta.layers.clear();
  write_file_atomically((tmp / "trace-header.json").string(),
                        [&](std::ostream& f) { f << layout::header_to_json(meta).dump(2) << "\n"; });
  write_file_atomically((tmp / "trace-export.json").string(), [&](std::ostream& f) {
    f << nlohmann::json{{"iteration", it}, {"values", value_types}}.dump(2) << "\n";
  });
  write_file_atomically((tmp / "layers.csv").string(), [&](std::ostream& f) { f << csv; });
  if (fs::exists(target, ec)) fs::remove(target, ec);  // empty, checked above
  fs::rename(tmp, target, ec);
  if (ec) throw InputError(dir, "cannot rename the finished export into place: " + ec.message());
  cleanup.p.clear();
  return it;
}

}  // namespace swatsim::traces
