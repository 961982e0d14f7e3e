#include "cli/train.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "data/data.hpp"
#include "models/models.hpp"
#include "record/recorder.hpp"
#include "report/flops.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"

namespace swatsim::frontend {

namespace F = torch::nn::functional;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

bool is_bn_param(const std::string& name, const torch::nn::Module& net) {
  // Parameters of BatchNorm modules (weight and bias).
  const auto dot = name.rfind('.');
  const std::string owner = dot == std::string::npos ? "" : name.substr(0, dot);
  for (const auto& m : net.named_modules("", false))
    if (m.key() == owner) return dynamic_cast<const torch::nn::BatchNorm2dImpl*>(m.value().get()) != nullptr;
  return false;
}

/// SGD with momentum (PyTorch's update rule, dampening 0) and optional Nesterov; weight decay
/// is L2 added to the gradient, optionally not for BatchNorm parameters.
struct Sgd {
  struct Slot {
    std::string name;
    torch::Tensor p, buf;
    bool decay = true;
  };
  std::vector<Slot> slots;
  double momentum = 0.9, wd = 0.0;
  bool nesterov = false;
  void step(double lr) {
    torch::NoGradGuard ng;
    for (auto& s : slots) {
      if (!s.p.grad().defined()) continue;
      auto d = s.p.grad();
      if (s.decay && wd != 0.0) d = d.add(s.p, wd);
      if (momentum != 0.0) {
        if (!s.buf.defined()) s.buf = d.clone();
        else s.buf.mul_(momentum).add_(d);
        d = nesterov ? d.add(s.buf, momentum) : s.buf;
      }
      s.p.add_(d, -lr);
    }
  }
};

struct Run {
  const TrainOptions& o;
  std::ostream& out;
  torch::Device device{torch::kCPU};
  std::shared_ptr<SwatContext> ctx = std::make_shared<SwatContext>();
  std::shared_ptr<Net> net;
  std::vector<LayerEntry> layers;
  DistributionSpec spec;
  int64_t channels = 3, size = 32, classes = 10;
  Run(const TrainOptions& opt, std::ostream& os) : o(opt), out(os) {}
};

void build_model(Run& r) {
  const auto& info = model_info(r.o.model);
  r.channels = info.in_channels;
  r.size = r.o.input_size > 0 ? r.o.input_size : info.input_size;
  r.ctx->topk_period = r.o.topk_period;
  torch::manual_seed(r.o.seed);
  r.net = make_model(r.o.model, r.classes, r.ctx);
  r.net->to(r.device);
  try {
    r.layers = probe_layers(*r.net, *r.ctx, r.channels, r.size);
  } catch (const c10::Error& e) {
    throw InputError("--input-size", fmt::format("{} does not fit model {} ({})", r.size, r.o.model,
                                                 std::string(e.what_without_backtrace()).substr(0, 120)));
  }
  std::vector<SwatLayerImpl*> ls;
  for (auto& e : r.layers) ls.push_back(e.layer);
  apply_distribution(ls, r.spec);
  for (auto* l : ls) l->invalidate();
}

std::vector<SwatLayerImpl*> layer_ptrs(const Run& r) {
  std::vector<SwatLayerImpl*> v;
  for (const auto& e : r.layers) v.push_back(e.layer);
  return v;
}

std::vector<LayerCost> layer_costs(const Run& r, bool measured) {
  std::vector<LayerCost> v;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const auto* l = r.layers[i].layer;
    const auto& op = l->options();
    LayerCost c;
    c.name = r.layers[i].name;
    c.linear = op.linear;
    c.C = op.in; c.K = op.out; c.groups = op.groups;
    c.H = l->in_shape.at(2); c.W = l->in_shape.at(3);
    c.Ho = l->out_shape.at(2); c.Wo = l->out_shape.at(3);
    c.R = c.S = op.linear ? 1 : op.kernel;
    c.stride = op.linear ? 1 : op.stride;
    c.padding = op.linear ? 0 : op.padding;
    c.first = i == 0;
    c.sparse_weight = !l->dense && l->weight_sparsity > 0.0;
    c.sparse_act = !l->dense && l->act_sparsity > 0.0;
    if (measured) {
      c.weight_density = c.sparse_weight ? l->weight_density : 1.0;
      c.act_density = c.sparse_act ? l->act_density : 1.0;
    } else {
      c.weight_density = c.sparse_weight ? l->target_weight_density() : 1.0;
      c.act_density = c.sparse_act ? 1.0 - l->act_sparsity : 1.0;
    }
    v.push_back(c);
  }
  return v;
}

void write_report(const Run& r, bool measured, const std::string& dataset) {
  ReportMeta m;
  m.model = r.o.model;
  m.dataset = dataset;
  m.distribution = r.o.distribution;
  m.structure = r.o.structure;
  m.sparsity = r.o.sparsity;
  m.act_sparsity = r.o.act_sparsity;
  m.input_size = r.size;
  m.batch = r.o.batch;
  m.source = measured ? "measured (last training iteration)" : "shapes";
  auto rep = flop_report(layer_costs(r, measured), m);
  if (!r.o.quiet || r.o.flops_only) print_report(rep, r.out);
  if (!r.o.report.empty())
    write_file_atomically(r.o.report, [&](std::ostream& f) { f << rep.dump(2) << "\n"; });
}

// ---- data ----
struct Batcher {
  const DataSplit& data;
  const Run& r;
  torch::Tensor mean, stddev;
  Batcher(const DataSplit& d, const Run& run) : data(d), r(run) {
    mean = torch::tensor(std::vector<float>(d.mean.begin(), d.mean.end())).view({1, -1, 1, 1}).to(r.device);
    stddev = torch::tensor(std::vector<float>(d.stddev.begin(), d.stddev.end())).view({1, -1, 1, 1}).to(r.device);
  }
  torch::Tensor images(const Dataset& d, const int64_t* idx, int64_t b, torch::Tensor* labels) const {
    const int64_t per = d.c * d.h * d.w;
    auto u8 = torch::empty({b, d.c, d.h, d.w}, torch::kUInt8);
    auto lab = torch::empty({b}, torch::kInt64);
    for (int64_t i = 0; i < b; ++i) {
      std::memcpy(u8.data_ptr<uint8_t>() + i * per, d.image(idx[i]), size_t(per));
      lab.data_ptr<int64_t>()[i] = d.labels[size_t(idx[i])];
    }
    auto x = u8.to(r.device).to(torch::kFloat).div_(255.0).sub_(mean).div_(stddev);
    if (d.c == 1 && r.channels == 3) x = x.expand({b, 3, d.h, d.w}).contiguous();  // channel replication
    else if (d.c == 3 && r.channels == 1) x = x.mean(1, true);
    if (d.h != r.size || d.w != r.size)
      x = F::interpolate(x, F::InterpolateFuncOptions()
                                .size(std::vector<int64_t>{r.size, r.size})
                                .mode(torch::kBilinear)
                                .align_corners(false));
    *labels = lab.to(r.device);
    return x;
  }
};

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + uint64_t(epoch) + 1);
  std::shuffle(p.begin(), p.end(), rng);
  return p;
}

double evaluate(Run& r, const Batcher& b, int64_t limit) {
  const auto& d = b.data.test;
  const int64_t n = limit > 0 ? std::min(limit, d.n) : d.n;
  if (n == 0) return 0.0;
  r.net->eval();
  torch::NoGradGuard ng;
  int64_t correct = 0;
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  for (int64_t at = 0; at < n; at += 256) {
    const int64_t m = std::min<int64_t>(256, n - at);
    torch::Tensor y;
    auto x = b.images(d, idx.data() + at, m, &y);
    correct += r.net->forward(x).argmax(1).eq(y).sum().item<int64_t>();
  }
  r.net->train();
  return double(correct) / double(n);
}

// ---- checkpoints ----
void save_checkpoint(const Run& r, const Sgd& sgd, int64_t next_iteration, const std::string& path) {
  torch::serialize::OutputArchive a;
  a.write("meta.model", c10::IValue(r.o.model));
  a.write("meta.classes", c10::IValue(r.classes));
  a.write("meta.input_size", c10::IValue(r.size));
  a.write("meta.iteration", c10::IValue(next_iteration));
  // The SWAT settings: a resumed run must use the same ones (load_checkpoint compares them).
  a.write("meta.sparsity", c10::IValue(r.o.sparsity));
  a.write("meta.act_sparsity", c10::IValue(r.o.act_sparsity));
  a.write("meta.distribution", c10::IValue(r.o.distribution));
  a.write("meta.structure", c10::IValue(r.o.structure));
  a.write("meta.sparsify_first", c10::IValue(r.o.sparsify_first));
  a.write("meta.topk_period", c10::IValue(r.o.topk_period));
  for (const auto& p : r.net->named_parameters()) a.write("param." + p.key(), p.value().detach().cpu());
  for (const auto& b : r.net->named_buffers()) a.write("buffer." + b.key(), b.value().cpu());
  for (const auto& s : sgd.slots)
    if (s.buf.defined()) a.write("momentum." + s.name, s.buf.cpu());
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const auto* l = r.layers[i].layer;
    a.write("swat." + std::to_string(i),
            torch::tensor({l->w_threshold, l->a_threshold, double(l->w_computed_at), double(l->a_computed_at),
                           l->w_sparsity_at, l->a_sparsity_at, l->weight_sparsity, l->act_sparsity},
                          torch::kDouble));
  }
  const std::string tmp = path + ".tmp";
  try {
    a.save_to(tmp);
  } catch (const c10::Error&) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw InputError(path, "cannot write the checkpoint");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError(path, "cannot write the checkpoint (rename failed: " + ec.message() + ")");
  }
}

/// Rejects a checkpoint whose SWAT settings differ from this run's (the trace header and the
/// report describe the command line, so the command line must be what the checkpoint trained with).
void check_checkpoint_settings(torch::serialize::InputArchive& a, const TrainOptions& o, const std::string& path) {
  c10::IValue v;
  auto read = [&](const char* key, const char* option) {
    if (!a.try_read(std::string("meta.") + key, v))
      throw InputError(path, fmt::format("checkpoint does not record the setting {} (written by an older swat-train)", option));
  };
  auto mismatch = [&](const char* option, const std::string& ck, const std::string& run) {
    throw InputError(path, fmt::format("checkpoint was trained with {} {}, this run uses {} (resume with the same setting)",
                                       option, ck, run));
  };
  auto num = [&](const char* key, const char* option, double want) {
    read(key, option);
    if (!v.isDouble()) throw InputError(path, fmt::format("checkpoint: meta.{} is not a number", key));
    if (v.toDouble() != want) mismatch(option, fmt::format("{}", v.toDouble()), fmt::format("{}", want));
  };
  auto str = [&](const char* key, const char* option, const std::string& want) {
    read(key, option);
    if (!v.isString()) throw InputError(path, fmt::format("checkpoint: meta.{} is not a string", key));
    if (v.toStringRef() != want) mismatch(option, v.toStringRef(), want);
  };
  num("sparsity", "--sparsity", o.sparsity);
  // -1 means "as the weights": compare what the run uses, not how it was spelled.
  {
    read("act_sparsity", "--act-sparsity");
    if (!v.isDouble()) throw InputError(path, "checkpoint: meta.act_sparsity is not a number");
    auto effective = [&](double a) { return a >= 0 ? a : o.sparsity; };
    auto shown = [&](double a) { return a >= 0 ? fmt::format("{}", a) : fmt::format("{} (as the weights)", o.sparsity); };
    if (effective(v.toDouble()) != effective(o.act_sparsity))
      mismatch("--act-sparsity", shown(v.toDouble()), shown(o.act_sparsity));
  }
  str("distribution", "--distribution", o.distribution);
  str("structure", "--structure", o.structure);
  read("sparsify_first", "--sparsify-first");
  if (!v.isBool()) throw InputError(path, "checkpoint: meta.sparsify_first is not a bool");
  if (v.toBool() != o.sparsify_first)
    mismatch("--sparsify-first", v.toBool() ? "on" : "off", o.sparsify_first ? "on" : "off");
  read("topk_period", "--topk-period");
  if (!v.isInt()) throw InputError(path, "checkpoint: meta.topk_period is not an integer");
  if (v.toInt() != o.topk_period)
    mismatch("--topk-period", std::to_string(v.toInt()), std::to_string(o.topk_period));
}

int64_t load_checkpoint(Run& r, Sgd& sgd, const std::string& path) {
  if (!std::filesystem::exists(path)) throw InputError(path, "checkpoint not found");
  torch::serialize::InputArchive a;
  try {
    a.load_from(path);
  } catch (const c10::Error&) {
    throw InputError(path, "not a swat-train checkpoint (cannot be read)");
  }
  c10::IValue v;
  if (!a.try_read("meta.model", v) || !v.isString()) throw InputError(path, "not a swat-train checkpoint (no model name)");
  if (v.toStringRef() != r.o.model)
    throw InputError(path, "checkpoint is of model '" + v.toStringRef() + "', not '" + r.o.model + "'");
  int64_t next = 0;
  try {
    a.read("meta.classes", v);
    if (v.toInt() != r.classes)
      throw InputError(path, fmt::format("checkpoint has {} classes, this run {}", v.toInt(), r.classes));
    a.read("meta.input_size", v);
    if (v.toInt() != r.size)
      throw InputError(path, fmt::format("checkpoint was trained at input size {}, this run uses {}", v.toInt(), r.size));
    a.read("meta.iteration", v);
    next = v.toInt();
  } catch (const c10::Error&) {
    throw InputError(path, "not a swat-train checkpoint (missing metadata)");
  }
  check_checkpoint_settings(a, r.o, path);
  torch::NoGradGuard ng;
  try {
    for (auto& p : r.net->named_parameters()) {
      torch::Tensor t;
      a.read("param." + p.key(), t);
      p.value().copy_(t);
    }
    for (auto& b : r.net->named_buffers()) {
      torch::Tensor t;
      a.read("buffer." + b.key(), t);
      b.value().copy_(t);
    }
    for (auto& s : sgd.slots) {
      torch::Tensor t;
      if (a.try_read("momentum." + s.name, t)) s.buf = t.to(r.device);
    }
    for (size_t i = 0; i < r.layers.size(); ++i) {
      torch::Tensor t;
      a.read("swat." + std::to_string(i), t);
      auto* l = r.layers[i].layer;
      if (t.dim() != 1 || t.numel() != 8 || t.scalar_type() != torch::kDouble)
        throw InputError(path, fmt::format("malformed checkpoint: swat.{} (layer {}) must hold 8 doubles, has shape {}",
                                           i, r.layers[i].name, fmt::join(t.sizes(), "x")));
      auto acc = t.accessor<double, 1>();
      l->w_threshold = acc[0]; l->a_threshold = acc[1];
      l->w_computed_at = int64_t(acc[2]); l->a_computed_at = int64_t(acc[3]);
      l->w_sparsity_at = acc[4]; l->a_sparsity_at = acc[5];
      l->weight_sparsity = acc[6]; l->act_sparsity = acc[7];
    }
  } catch (const c10::Error& e) {
    throw InputError(path, "checkpoint does not match this model and settings");
  }
  return next;
}

double lr_at(const TrainOptions& o, int64_t it, int64_t total) {
  if (o.warmup > 0 && it < o.warmup) return o.lr * double(it + 1) / double(o.warmup);
  if (o.schedule == "constant") return o.lr;
  if (o.schedule == "cosine") {
    const double t = double(it - o.warmup) / double(std::max<int64_t>(1, total - o.warmup));
    return o.lr * 0.5 * (1.0 + std::cos(M_PI * std::clamp(t, 0.0, 1.0)));
  }
  double lr = o.lr;
  for (double m : o.milestones)
    if (double(it) >= m * double(total)) lr *= o.gamma;
  return lr;
}

void progress(std::ostream& os, int64_t it, int64_t total, double loss, double acc, double ips, bool tty) {
  const int width = 30;
  const int filled = int(double(width) * double(it) / double(std::max<int64_t>(1, total)));
  os << fmt::format("{}[{}{}] {}/{} loss {:.4f} acc {:.3f} {:.1f} img/s{}", tty ? "\r" : "",
                    std::string(size_t(filled), '#'), std::string(size_t(width - filled), ' '), it, total, loss,
                    acc, ips, tty ? "" : "\n");
  os.flush();
}

int run_bench(Run& r, const DataSplit& data) {
  // Two copies of the same model from the same seed: SWAT layers, and plain LibTorch layers.
  auto dense_ctx = std::make_shared<SwatContext>();
  dense_ctx->plain = true;
  torch::manual_seed(r.o.seed);
  auto dense = make_model(r.o.model, r.classes, dense_ctx);
  dense->to(r.device);
  r.ctx->track_density = false;
  Batcher b(data, r);
  std::vector<int64_t> idx(static_cast<size_t>(r.o.batch));
  for (int64_t i = 0; i < r.o.batch; ++i) idx[size_t(i)] = i % data.train.n;
  torch::Tensor y;
  auto x = b.images(data.train, idx.data(), r.o.batch, &y);
  auto make_sgd = [&](Net& n) {
    Sgd s;
    s.momentum = r.o.momentum; s.wd = r.o.weight_decay;
    for (auto& p : n.named_parameters()) s.slots.push_back({p.key(), p.value(), {}, true});
    return s;
  };
  Sgd s_swat = make_sgd(*r.net), s_dense = make_sgd(*dense);
  r.net->train();
  dense->train();
  int64_t it = 0;
  auto step = [&](Net& n, Sgd& s) {
    r.ctx->iteration = it;
    auto loss = F::cross_entropy(n.forward(x), y);
    n.zero_grad();
    loss.backward();
    s.step(0.01);
  };
  auto time_step = [&](Net& n, Sgd& s) {
    const auto t0 = Clock::now();
    step(n, s);
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  for (int w = 0; w < 2; ++w) { step(*r.net, s_swat); step(*dense, s_dense); ++it; }
  std::vector<double> ts, td;
  for (int64_t i = 0; i < r.o.bench_steps; ++i, ++it) {
    ts.push_back(time_step(*r.net, s_swat));
    td.push_back(time_step(*dense, s_dense));
  }
  auto median = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); };
  json j = {{"model", r.o.model}, {"batch", r.o.batch}, {"sparsity", r.o.sparsity}, {"topk_period", r.o.topk_period},
            {"threads", torch::get_num_threads()}, {"steps", r.o.bench_steps},
            {"swat_step_s", {{"median", median(ts)}, {"mean", mean(ts)}}},
            {"dense_step_s", {{"median", median(td)}, {"mean", mean(td)}}},
            {"ratio_median", median(ts) / median(td)}, {"ratio_mean", mean(ts) / mean(td)}};
  r.out << j.dump() << "\n";
  return 0;
}

/// An output path must name a file in an existing, writable directory; checked before training so
/// that a typo does not cost a whole run.
void check_output_path(const std::string& path, const char* option) {
  if (path.empty()) return;
  namespace fs = std::filesystem;
  const fs::path p(path);
  std::error_code ec;
  if (p.filename().empty() || fs::is_directory(p, ec))
    throw InputError(option, "'" + path + "' names a directory, expected a file");
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (!fs::is_directory(dir, ec)) throw InputError(option, "'" + path + "': directory " + dir.string() + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(option, "'" + path + "': directory " + dir.string() + " is not writable");
}

}  // namespace

namespace {

/// SWAT settings, threads and device from the options; every output path checked (no slow work yet).
void configure(Run& r, const TrainOptions& o) {
  (void)model_info(o.model);  // validates the name
  r.spec.distribution = distribution_from_string(o.distribution);
  r.spec.structure = structure_from_string(o.structure);
  r.spec.sparsity = o.sparsity;
  r.spec.act_sparsity = o.act_sparsity;
  r.spec.sparsify_first = o.sparsify_first;
  if (std::find(dataset_names().begin(), dataset_names().end(), o.dataset) == dataset_names().end())
    throw InputError("--dataset", "unknown dataset '" + o.dataset +
                                      "' (expected fashion-mnist, cifar10, cifar100, folder or synthetic)");
  torch::set_num_threads(int(o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency())));
  if (o.device == "cuda" && !torch::cuda::is_available())
    throw InputError("--device", "cuda requested but this LibTorch has no CUDA device");
  if (o.device != "cpu" && torch::cuda::is_available()) r.device = torch::Device(torch::kCUDA);
  check_output_path(o.report, "--report");
  if (!o.flops_only) {
    check_output_path(o.checkpoint, "--checkpoint");
    check_output_path(o.log, "--log");
    check_output_path(o.trace, "--trace");
    check_output_path(o.save_init, "--save-init");
    if (!o.dump_batches.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(o.dump_batches, ec);
      if (ec || !std::filesystem::is_directory(o.dump_batches))
        throw InputError("--dump-batches", "'" + o.dump_batches + "': cannot create the directory");
    }
  }
}

/// What to load: the dataset named by the options, at the model's input size.
DataRequest data_request(const TrainOptions& o, const ModelInfo& info) {
  DataRequest dr;
  dr.name = o.dataset;
  dr.dir = o.data_dir;
  dr.seed = o.seed;
  dr.folder_size = o.input_size > 0 ? o.input_size : info.input_size;
  dr.synthetic_size = dr.folder_size;
  dr.synthetic_channels = info.in_channels;
  if (o.num_classes > 0) dr.synthetic_classes = o.num_classes;
  dr.synthetic_train = std::max<int64_t>(1024, o.batch);
  return dr;
}

/// The trace recorder, when --trace asks for one: the run's header and layer table.
std::unique_ptr<TraceRecorder> make_recorder(Run& r, const TrainOptions& o, int64_t rec_samples) {
  std::unique_ptr<TraceRecorder> recorder;
  if (!o.trace.empty()) {
    traces::TraceHeader h;
    h.producer = "swat-train";
    h.producer_version = "0.1.0";
    h.model = o.model;
    h.dataset = o.dataset;
    h.swat.sparsity = o.sparsity;
    h.swat.activation_sparsity = o.act_sparsity >= 0 ? o.act_sparsity : o.sparsity;
    h.swat.distribution = o.distribution;
    h.swat.structure = o.structure;
    h.swat.topk_period = uint32_t(o.topk_period);
    h.swat.sparsify_first = o.sparsify_first;
    h.seed = o.seed;
    h.batch_size = uint32_t(o.batch);
    h.layers = trace_layer_table(r.layers, rec_samples);
    recorder = std::make_unique<TraceRecorder>(o.trace, h, r.layers, o.trace_values);
  }
  return recorder;
}

/// SWAT-M: the kept weights reshared by each layer's mean |momentum| (every top-K period).
void reshare_by_momentum(Run& r, const Sgd& sgd, const std::vector<SwatLayerImpl*>& ptrs) {
  std::vector<double> mom;
  for (auto* l : ptrs) {
    double m = 0.0;
    for (const auto& s : sgd.slots)
      if (s.p.is_same(l->weight) && s.buf.defined()) m = s.buf.abs().mean().item<double>();
    mom.push_back(m);
  }
  apply_distribution(ptrs, r.spec, mom);
}

/// One line of the JSON-lines log (--log): loss, accuracy, learning rate, per-layer densities.
void log_iteration(std::ofstream& log, int64_t it, double epoch, double loss, double accuracy, double lr,
                   const std::vector<SwatLayerImpl*>& ptrs) {
  json j = {{"iteration", it}, {"epoch", epoch}, {"loss", loss}, {"accuracy", accuracy}, {"lr", lr}};
  json wd = json::array(), ad = json::array();
  for (auto* l : ptrs) {
    wd.push_back(l->weight_density);
    ad.push_back(l->act_density);
  }
  j["weight_density"] = wd;
  j["act_density"] = ad;
  log << j.dump() << "\n";
}

}  // namespace

int run_swat_train(const TrainOptions& o, std::ostream& out) {
  Run r(o, out);
  // Validate names and outputs before any slow work.
  configure(r, o);
  const auto& info = model_info(o.model);
  if (o.flops_only) {
    r.classes = o.num_classes > 0 ? o.num_classes : (info.input_size == 224 ? 1000 : 10);
    build_model(r);
    write_report(r, false, "-");
    return 0;
  }

  const DataRequest dr = data_request(o, info);
  const auto data = load_dataset(dr);
  if (data.test_is_train && !o.no_eval)
    std::cerr << "swat-train: warning: " << o.data_dir
              << " has no val/ split; evaluating on the training images (reported as train top-1)\n";
  const char* eval_split = data.test_is_train ? "train" : "test";
  r.classes = o.num_classes > 0 ? o.num_classes : data.classes;
  if (r.classes < data.classes)
    throw InputError("--num-classes", fmt::format("{} classes is fewer than the dataset's {}", r.classes, data.classes));
  if (data.train.n < o.batch)
    throw InputError("--batch", fmt::format("batch {} is larger than the {} training images", o.batch, data.train.n));
  build_model(r);
  if (o.bench_steps > 0) return run_bench(r, data);

  Sgd sgd;
  sgd.momentum = o.momentum;
  sgd.wd = o.weight_decay;
  sgd.nesterov = o.nesterov;
  for (auto& p : r.net->named_parameters())
    sgd.slots.push_back({p.key(), p.value(), {}, !(o.no_bn_decay && is_bn_param(p.key(), *r.net))});

  const int64_t spe = data.train.n / o.batch;
  const int64_t total = o.iterations > 0 ? o.iterations
                                         : std::max<int64_t>(1, int64_t(std::llround((o.epochs > 0 ? o.epochs : 1.0) * double(spe))));
  int64_t start = 0;
  if (!o.resume.empty()) start = load_checkpoint(r, sgd, o.resume);
  if (!o.trace.empty()) {
    // The first iteration the trace schedule records at or after `start`.
    const int64_t first = o.trace_start >= start
                              ? o.trace_start
                              : o.trace_start + (start - o.trace_start + o.trace_every - 1) / o.trace_every * o.trace_every;
    if (first >= total)
      throw InputError("--trace-start", fmt::format("iteration {} is not before the end of the run ({} iterations{}): "
                                                    "nothing would be recorded",
                                                    first, total, start > 0 ? fmt::format(", resumed at {}", start) : ""));
  }

  const int64_t rec_samples = std::min(o.trace_samples, o.batch);
  std::unique_ptr<TraceRecorder> recorder = make_recorder(r, o, rec_samples);
  std::ofstream log;
  if (!o.log.empty()) {
    log.open(o.log, start > 0 ? std::ios::app : std::ios::trunc);
    if (!log) throw InputError(o.log, "cannot write the log");
  }
  r.ctx->record_samples = rec_samples;
  r.ctx->track_density = true;
  const bool tty = isatty(2);
  if (!o.quiet)
    out << fmt::format("swat-train: {} on {} ({} train / {} test, {} classes, input {}x{}x{}), {} SWAT layers, "
                       "sparsity {} {} {}, {} iterations from {}, {} threads\n",
                       o.model, o.dataset, data.train.n, data.test.n, r.classes, r.channels, r.size, r.size,
                       r.layers.size(), o.sparsity, o.distribution, o.structure, total, start, torch::get_num_threads());
  Batcher batcher(data, r);
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  auto ptrs = layer_ptrs(r);
  double run_loss = 0.0, run_acc = 0.0;
  int64_t run_n = 0;
  auto t_last = Clock::now();
  int64_t img_since = 0;
  double last_ips = 0.0;
  const int64_t progress_every = std::max<int64_t>(1, total / 200);
  double last_top1 = -1.0;
  int64_t recorded = 0;
  r.net->train();
  if (!o.save_init.empty()) save_checkpoint(r, sgd, start, o.save_init);
  for (int64_t it = start; it < total; ++it) {
    const int64_t epoch = it / spe, pos = it % spe;
    if (epoch != order_epoch) { order = epoch_order(data.train.n, o.seed, epoch); order_epoch = epoch; }
    torch::Tensor y;
    auto x = batcher.images(data.train, order.data() + pos * o.batch, o.batch, &y);
    if (!o.dump_batches.empty()) {
      torch::serialize::OutputArchive batch;
      batch.write("x", x.cpu());
      batch.write("y", y.cpu());
      batch.save_to((std::filesystem::path(o.dump_batches) / fmt::format("iteration-{}.pt", it)).string());
    }
    r.ctx->iteration = it;
    const bool rec = recorder && it >= o.trace_start && (it - o.trace_start) % o.trace_every == 0 &&
                     (o.trace_count == 0 || recorded < o.trace_count);
    r.ctx->record = rec;
    auto logits = r.net->forward(x);
    auto loss = F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing));
    r.net->zero_grad();
    loss.backward();
    const double lr = lr_at(o, it, total);
    sgd.step(lr);
    r.ctx->record = false;
    if (rec) { recorder->add(uint32_t(it)); ++recorded; }
    if (r.spec.distribution == Distribution::Momentum && (it + 1) % o.topk_period == 0) reshare_by_momentum(r, sgd, ptrs);
    const double lv = loss.item<double>();
    const double av = logits.argmax(1).eq(y).to(torch::kDouble).mean().item<double>();
    run_loss += lv; run_acc += av; ++run_n;
    img_since += o.batch;
    if (log.is_open()) log_iteration(log, it, double(it + 1) / double(spe), lv, av, lr, ptrs);
    const bool last = it + 1 == total;
    if (o.progress && ((it + 1) % progress_every == 0 || last)) {
      const double dt = std::chrono::duration<double>(Clock::now() - t_last).count();
      last_ips = dt > 0 ? double(img_since) / dt : 0.0;
      progress(std::cerr, it + 1, total, run_loss / double(run_n), run_acc / double(run_n), last_ips, tty);
      t_last = Clock::now();
      img_since = 0;
      run_loss = run_acc = 0.0;
      run_n = 0;
    }
    const bool epoch_end = (it + 1) % spe == 0;
    if (!o.no_eval && ((o.eval_every > 0 && (it + 1) % o.eval_every == 0) || (o.eval_every == 0 && epoch_end) || last)) {
      last_top1 = evaluate(r, batcher, o.eval_samples);
      if (log.is_open())
        log << json({{"eval_after_iteration", it}, {"top1", last_top1}, {"eval_split", eval_split}}).dump() << "\n";
      if (o.progress && tty) std::cerr << "\n";
      if (!o.quiet) out << fmt::format("iteration {}: {} top-1 {:.4f}\n", it + 1, eval_split, last_top1);
    }
    if (!o.checkpoint.empty() && o.checkpoint_every > 0 && (it + 1) % o.checkpoint_every == 0 && !last)
      save_checkpoint(r, sgd, it + 1, o.checkpoint);
  }
  if (o.progress && tty) std::cerr << "\n";
  if (start >= total && !o.no_eval) last_top1 = evaluate(r, batcher, o.eval_samples);
  if (recorder) {
    recorder->finish();
    if (!o.quiet) out << fmt::format("trace: {} iterations x {} layers -> {}\n", recorder->iterations_written(), r.layers.size(), o.trace);
  }
  if (!o.checkpoint.empty()) save_checkpoint(r, sgd, total, o.checkpoint);
  // A final line that scripts can parse.
  json fin = {{"final", true}, {"model", o.model}, {"sparsity", o.sparsity}, {"iterations", total},
              {"top1", last_top1}, {"eval_split", eval_split}};
  {
    json params = json::array();
    for (auto* l : ptrs) params.push_back({{"w", l->weight_density}, {"a", l->act_density}});
    fin["densities"] = params;
  }
  if (log.is_open()) log << fin.dump() << "\n";
  if (!o.quiet) out << fmt::format("final: {} top-1 {:.4f}\n", eval_split, last_top1);
  if (!o.report.empty()) write_report(r, start < total, o.dataset);
  return 0;
}

}  // namespace swatsim::frontend
