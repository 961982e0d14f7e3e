// `swatsim trace {info,validate,import-npy,export-npy,synth}`.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <optional>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "command.hpp"
#include "options.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/replay.hpp"
#include "swatsim/sim/version.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

namespace po = boost::program_options;
namespace tr = swatsim::traces;

namespace swatsim::cli {
namespace {

constexpr const char* kUsage =
    "usage: swatsim trace VERB [OPTIONS]\n\n"
    "verbs:\n"
    "  info TRACE                 header, layer table and per-tensor densities\n"
    "  validate TRACE             read every blob and check everything the format promises\n"
    "  import-npy DIR... -o TRACE NumPy dumps of a PyTorch run (one DIR per iteration) -> trace\n"
    "  export-npy TRACE -o DIR    one iteration of a trace -> NumPy dumps\n"
    "  synth -o TRACE             synthetic trace of a standard layer table with random masks\n"
    "  merge A B... -o TRACE      the iterations of several traces of one run, in one trace\n"
    "  slice TRACE -o OUT         some iterations and layers of a trace (--iterations, --layers)\n\n"
    "'swatsim trace VERB --help' lists a verb's options.\n";

double sparsity_arg(const po::variables_map& vm, const char* key) {
  const double s = vm[key].as<double>();
  if (!(s >= 0.0 && s < 1.0)) throw InputError(fmt::format("--{}", key), fmt::format("expected a number in [0, 1), got {}", s));
  return s;
}

// Parses the single positional TRACE of `info` and `validate`; returns false if help was shown.
bool parse_trace_only(const std::vector<std::string>& args, const std::string& verb, std::string& path) {
  po::options_description desc("options");
  desc.add_options()("trace", po::value(&path)->required(), "trace file");
  po::positional_options_description pos;
  pos.add("trace", 1);
  po::variables_map vm;
  return parse_options(args, desc, pos, vm, "usage: swatsim trace " + verb + " TRACE");
}

int trace_info(const std::vector<std::string>& args) {
  std::string path;
  if (!parse_trace_only(args, "info", path)) return 0;
  tr::print_info(path, std::cout);
  return 0;
}

int trace_validate(const std::vector<std::string>& args) {
  std::string path;
  if (!parse_trace_only(args, "validate", path)) return 0;
  const auto s = tr::validate(path);
  std::cout << fmt::format("{}: valid: {} iteration{}, {} tensor{}, {} bytes stored for {} bytes of bitmap\n", path,
                           s.iterations, s.iterations == 1 ? "" : "s", s.tensors, s.tensors == 1 ? "" : "s",
                           s.stored_bytes, s.bitmap_bytes);
  return 0;
}

// Header options shared by import-npy and synth.
void add_header_options(po::options_description& desc) {
  desc.add_options()
    ("model", po::value<std::string>(), "model name recorded in the header")
    ("dataset", po::value<std::string>(), "dataset name recorded in the header")
    ("sparsity", po::value<double>()->default_value(0.0), "SWAT weight sparsity, [0,1)")
    ("act-sparsity", po::value<double>(), "SWAT activation sparsity, [0,1) (default: --sparsity)")
    ("distribution", po::value<std::string>()->default_value("uniform"), "uniform | erk | momentum")
    ("structure", po::value<std::string>()->default_value("unstructured"), "unstructured | channel | filter")
    ("topk-period", po::value<uint32_t>()->default_value(1), "iterations between top-K threshold updates")
    ("sparsify-first", po::bool_switch(), "the first layer is sparse too")
    ("seed", po::value<uint64_t>()->default_value(1), "seed recorded (synth: used)");
}

// Explicitly given options override `h`'s fields.
void apply_header_options(const po::variables_map& vm, tr::TraceHeader& h) {
  auto given = [&](const char* k) { return vm.count(k) && !vm[k].defaulted(); };
  if (given("model")) h.model = vm["model"].as<std::string>();
  if (given("dataset")) h.dataset = vm["dataset"].as<std::string>();
  if (given("sparsity")) h.swat.sparsity = h.swat.activation_sparsity = sparsity_arg(vm, "sparsity");
  if (given("act-sparsity")) h.swat.activation_sparsity = sparsity_arg(vm, "act-sparsity");
  if (given("distribution")) h.swat.distribution = vm["distribution"].as<std::string>();
  if (given("structure")) h.swat.structure = vm["structure"].as<std::string>();
  if (given("topk-period")) h.swat.topk_period = vm["topk-period"].as<uint32_t>();
  if (vm["sparsify-first"].as<bool>()) h.swat.sparsify_first = true;
  if (given("seed")) h.seed = vm["seed"].as<uint64_t>();
  if (std::string err = tr::check_swat(h.swat); !err.empty()) throw InputError("command line", err);
}

/// Trailing digits of a directory name ("iter-0005" -> 5, "12" -> 12), if any.
std::optional<uint32_t> iteration_from_name(const std::string& dir) {
  std::string name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  size_t i = name.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(name[i - 1]))) --i;
  if (i == name.size() || name.size() - i > 9) return std::nullopt;
  return uint32_t(std::stoul(name.substr(i)));
}

/// The dump directories named on the command line as (dir, iteration): DIR:N names the iteration;
/// otherwise DIR's trace-export.json, else the digits ending its name, else (a single directory)
/// --iteration or 0. A directory without layers.csv whose subdirectories have one is a run: one
/// subdirectory per iteration.
std::vector<tr::NpyIteration> import_inputs(const std::vector<std::string>& args, std::optional<uint32_t> iteration) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::optional<uint32_t>>> dirs;
  for (const auto& a : args) {
    const auto colon = a.rfind(':');
    if (colon != std::string::npos && colon + 1 < a.size() && colon + 10 >= a.size() &&
        std::all_of(a.begin() + long(colon) + 1, a.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
        fs::is_directory(a.substr(0, colon))) {
      dirs.emplace_back(a.substr(0, colon), uint32_t(std::stoul(a.substr(colon + 1))));
      continue;
    }
    if (fs::is_directory(a) && !fs::exists(fs::path(a) / "layers.csv")) {
      std::vector<std::string> subs;
      for (const auto& e : fs::directory_iterator(a))
        if (e.is_directory() && fs::exists(e.path() / "layers.csv")) subs.push_back(e.path().string());
      std::sort(subs.begin(), subs.end());
      if (!subs.empty()) {
        for (const auto& d : subs) dirs.emplace_back(d, std::nullopt);
        continue;
      }
    }
    dirs.emplace_back(a, std::nullopt);
  }
  std::vector<tr::NpyIteration> out;
  for (const auto& [dir, given] : dirs) {
    std::optional<uint32_t> it = given;
    if (!it && dirs.size() == 1 && iteration) it = iteration;
    if (!it && fs::exists(fs::path(dir) / "trace-export.json")) it = tr::npy_default_options(dir).iteration;
    if (!it && dirs.size() > 1) it = iteration_from_name(dir);
    if (!it && dirs.size() == 1) it = iteration.value_or(0);
    if (!it)
      throw InputError(dir, "cannot tell which iteration it holds: name it DIR:N, or end the directory's name with "
                            "the iteration number");
    out.push_back(tr::NpyIteration{dir, *it});
  }
  if (iteration && dirs.size() > 1) throw InputError("--iteration", "applies to a single dump directory; use DIR:N");
  return out;
}

int trace_import(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::vector<std::string> dirs, inputs;
  std::string out;
  desc.add_options()("dir", po::value(&dirs)->multitoken(), "dump directories (DIR or DIR:ITERATION), or a run directory")
    ("input,i", po::value(&inputs)->composing(), "a dump directory DIR[:ITERATION] (repeatable)")
    ("output,o", po::value(&out)->required(), "trace to write")
    ("iteration", po::value<uint32_t>(), "iteration of a single dump directory (default: trace-export.json, else 0)")
    ("batch", po::value<uint32_t>(), "training batch size (default: from DIR/trace-header.json, else the dumps' N)")
    ("values", po::bool_switch(), "store the values beside the masks (default: masks only; the PE models read masks)")
    ("no-values", po::bool_switch(), "masks only (the default; kept for older scripts)")
    ("ignore-unlisted", po::bool_switch(), "skip .npy files of layers that layers.csv does not list (default: an error)");
  add_header_options(desc);
  po::positional_options_description pos;
  pos.add("dir", -1);
  po::variables_map vm;
  if (!parse_options(args, desc, pos, vm,
                     "usage: swatsim trace import-npy DIR[:ITERATION]... -o TRACE [OPTIONS]\n\n"
                     "NumPy dumps of a PyTorch run (docs/trace-format.md) -> a trace. Each DIR holds one\n"
                     "iteration's dumps (layers.csv and one .npy per tensor); a directory without layers.csv whose\n"
                     "subdirectories have one is a run, one subdirectory per iteration. The iteration of a DIR\n"
                     "is ITERATION, else its trace-export.json's, else (with several) the digits ending its name\n"
                     "(iter-0005: 5); a single DIR defaults to --iteration or 0.\n"
                     "Header fields come from the first DIR's trace-header.json, overridden by the options."))
    return 0;
  dirs.insert(dirs.end(), inputs.begin(), inputs.end());
  if (dirs.empty()) throw InputError("command line", "import-npy needs a dump directory; see --help");
  std::optional<uint32_t> iteration;
  if (vm.count("iteration")) iteration = vm["iteration"].as<uint32_t>();
  const std::vector<tr::NpyIteration> its = import_inputs(dirs, iteration);
  tr::NpyImportOptions o = tr::npy_default_options(its.front().dir);
  if (o.header.producer_version.empty()) o.header.producer_version = swatsim::version();
  apply_header_options(vm, o.header);
  if (vm.count("batch")) {
    o.header.batch_size = vm["batch"].as<uint32_t>();
    if (o.header.batch_size == 0) throw InputError("--batch", "expected an integer >= 1, got 0");
    o.batch_from_dumps = false;
  }
  if (!vm["values"].as<bool>()) {
    o.values = tr::ValueType::None;
    o.value_overrides.clear();
  }
  o.ignore_unlisted = vm["ignore-unlisted"].as<bool>();
  std::vector<std::string> in_dirs;
  for (const auto& i : its) in_dirs.push_back(i.dir);
  refuse_same_file(out, "--output", in_dirs, "a dump directory");
  {
    std::error_code ec;
    const auto parent = std::filesystem::weakly_canonical(std::filesystem::absolute(out, ec).parent_path(), ec);
    const std::string name = std::filesystem::path(out).filename().string();
    const bool read_by_import = name == "layers.csv" || name == "trace-header.json" || name == "trace-export.json" ||
                                (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0);
    for (const auto& d : in_dirs)
      if (read_by_import && !ec && std::filesystem::weakly_canonical(d, ec) == parent)
        throw InputError("--output", fmt::format("'{}' is a file the import reads in the dump directory {}", out, d));
  }
  tr::import_npy(its, out, o);
  if (out != "-") std::cout << fmt::format("wrote {} ({} iteration{})\n", out, its.size(), its.size() > 1 ? "s" : "");
  return 0;
}

int trace_export(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::string path, out;
  desc.add_options()("trace", po::value(&path)->required(), "trace file")
    ("output,o", po::value(&out)->required(), "directory to create for the NumPy dumps (must not exist or be empty)")
    ("iteration", po::value<uint32_t>(), "iteration to export (default: the first recorded)");
  po::positional_options_description pos;
  pos.add("trace", 1);
  po::variables_map vm;
  if (!parse_options(args, desc, pos, vm, "usage: swatsim trace export-npy TRACE -o DIR [--iteration N]")) return 0;
  std::optional<uint32_t> iteration;
  if (vm.count("iteration")) iteration = vm["iteration"].as<uint32_t>();
  if (out == "-") throw InputError("--output", "export-npy writes a directory, not standard output");
  const uint32_t it = tr::export_npy(path, out, iteration);
  std::cout << fmt::format("wrote iteration {} to {}\n", it, out);
  return 0;
}

int trace_synth(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::string out;
  tr::SynthOptions o;
  desc.add_options()("output,o", po::value(&out)->required(), "trace to write")
    ("samples", po::value(&o.samples)->default_value(2), "recorded samples N per layer")
    ("iterations", po::value(&o.iterations)->default_value(1), "iterations to record")
    ("values", po::bool_switch(&o.values), "store random fp32 values beside the masks");
  add_header_options(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  const std::string usage = fmt::format("usage: swatsim trace synth --model MODEL -o TRACE [OPTIONS]\nmodels: {}",
                                        fmt::join(tr::synth_models(), ", "));
  if (!parse_options(args, desc, pos, vm, usage)) return 0;
  tr::TraceHeader h;
  h.swat = o.swat;
  h.seed = o.seed;
  h.model = o.model;
  apply_header_options(vm, h);
  if (!vm.count("model"))
    throw InputError("--model", fmt::format("which layer table? expected one of {}", fmt::join(tr::synth_models(), ", ")));
  o.swat = h.swat;
  o.seed = h.seed;
  o.model = h.model;
  if (o.iterations == 0) throw InputError("--iterations", "expected an integer >= 1");
  tr::synthesize(out, o);
  if (out != "-") std::cout << fmt::format("wrote {}\n", out);
  return 0;
}

int trace_merge(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::vector<std::string> inputs;
  std::string out;
  desc.add_options()("traces", po::value(&inputs)->multitoken()->required(), "traces of one run")(
      "output,o", po::value(&out)->required(), "trace to write");
  po::positional_options_description pos;
  pos.add("traces", -1);
  po::variables_map vm;
  if (!parse_options(args, desc, pos, vm,
                     "usage: swatsim trace merge A B... -o TRACE\n\n"
                     "Writes every iteration of the inputs (the same model, dataset, batch, SWAT settings and\n"
                     "layer table; no iteration in two of them) to TRACE, in increasing iteration order.\n"
                     "Streaming and atomic; every blob is checked as it is read."))
    return 0;
  refuse_same_file(out, "--output", inputs);
  tr::merge_traces(inputs, out);
  if (out != "-") std::cout << fmt::format("wrote {}\n", out);
  return 0;
}

int trace_slice(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::string path, out, iterations, layers;
  desc.add_options()("trace", po::value(&path)->required(), "trace file")(
      "output,o", po::value(&out)->required(), "trace to write")(
      "iterations", po::value(&iterations), "recorded iterations to keep, e.g. 0,2,5-7 (default: all)")(
      "layers", po::value(&layers), "layers to keep: indices, ranges or names (default: all); renumbered in order")(
      "raw", "store every blob uncompressed (what swatsim.trace.TraceWriter(compress=False) writes, byte for byte)");
  po::positional_options_description pos;
  pos.add("trace", 1);
  po::variables_map vm;
  if (!parse_options(args, desc, pos, vm,
                     "usage: swatsim trace slice TRACE -o OUT [--iterations LIST] [--layers LIST] [--raw]\n\n"
                     "Writes the selected iterations and layers of TRACE to OUT (values kept). A range selects\n"
                     "what the trace records inside it and must select something. Layers are renumbered in\n"
                     "order: the first one kept is the network's first layer to a replay (no input-grad pass).\n"
                     "Streaming and atomic."))
    return 0;
  if (!vm.count("iterations") && !vm.count("layers"))
    throw InputError("command line", "slice needs --iterations and/or --layers (otherwise it is a copy)");
  refuse_same_file(out, "--output", {path});
  std::vector<sim::IndexRange> its, lays;
  std::vector<std::string> names;
  if (vm.count("iterations")) its = sim::parse_index_list(iterations, "--iterations");
  if (vm.count("layers")) sim::parse_layer_list(layers, lays, names);
  sim::TraceSelection sel;
  {
    tr::TraceReader reader(path);
    sel = sim::select_in_trace(reader, its, lays, names);
  }
  tr::TraceWriter::Options options;
  if (vm.count("raw")) options.zlib_level = 0;
  tr::slice_trace(path, out, sel.iterations, sel.layers, options);
  if (out != "-")
    std::cout << fmt::format("wrote {} ({} iterations, {} layers)\n", out, sel.iterations.size(), sel.layers.size());
  return 0;
}

int trace_command(const std::vector<std::string>& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    (args.size() < 2 ? std::cerr : std::cout) << kUsage;
    return args.size() < 2 ? kExitBadInput : 0;
  }
  const std::string verb = args[1];
  const std::vector<std::string> rest(args.begin() + 2, args.end());
  if (verb == "info") return trace_info(rest);
  if (verb == "validate") return trace_validate(rest);
  if (verb == "import-npy") return trace_import(rest);
  if (verb == "export-npy") return trace_export(rest);
  if (verb == "synth") return trace_synth(rest);
  if (verb == "merge") return trace_merge(rest);
  if (verb == "slice") return trace_slice(rest);
  throw InputError("command line", "unknown verb 'trace " + verb + "'; see swatsim trace --help");
}

}  // namespace

SWATSIM_REGISTER_COMMAND("trace", "inspect, validate, convert and synthesize traces", trace_command);

}  // namespace swatsim::cli
