// `swatsim trace {info,validate,import-npy,export-npy,synth}`.
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "command.hpp"
#include "options.hpp"
#include "swatsim/common/error.hpp"
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
    "  import-npy DIR -o TRACE    NumPy dumps of a PyTorch run -> trace (docs/trace-format.md)\n"
    "  export-npy TRACE -o DIR    one iteration of a trace -> NumPy dumps\n"
    "  synth -o TRACE             synthetic trace of a standard layer table with random masks\n\n"
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
  std::cout << fmt::format("{}: valid: {} iterations, {} tensors, {} bytes stored for {} bytes of bitmap\n", path,
                           s.iterations, s.tensors, s.stored_bytes, s.bitmap_bytes);
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

int trace_import(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::string dir, out;
  desc.add_options()("dir", po::value(&dir)->required(), "directory of NumPy dumps")
    ("output,o", po::value(&out)->required(), "trace to write")
    ("iteration", po::value<uint32_t>(), "iteration number to record the dumps as (default: from DIR/trace-export.json, else 0)")
    ("batch", po::value<uint32_t>(), "training batch size (default: from DIR/trace-header.json, else the dumps' N)")
    ("no-values", po::bool_switch(), "store masks only, not the values");
  add_header_options(desc);
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  if (!parse_options(args, desc, pos, vm, "usage: swatsim trace import-npy DIR -o TRACE [OPTIONS]")) return 0;
  tr::NpyImportOptions o = tr::npy_default_options(dir);
  if (o.header.producer_version.empty()) o.header.producer_version = swatsim::version();
  apply_header_options(vm, o.header);
  if (vm.count("batch")) {
    o.header.batch_size = vm["batch"].as<uint32_t>();
    o.batch_from_dumps = false;
  }
  if (vm.count("iteration")) o.iteration = vm["iteration"].as<uint32_t>();
  if (vm["no-values"].as<bool>()) {
    o.values = tr::ValueType::None;
    o.value_overrides.clear();
  }
  tr::import_npy(dir, out, o);
  std::cout << fmt::format("wrote {}\n", out);
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
  o.swat = h.swat;
  o.seed = h.seed;
  o.model = h.model;
  if (o.iterations == 0) throw InputError("--iterations", "expected an integer >= 1");
  tr::synthesize(out, o);
  std::cout << fmt::format("wrote {}\n", out);
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
  throw InputError("command line", "unknown verb 'trace " + verb + "'\n" + kUsage);
}

}  // namespace

SWATSIM_REGISTER_COMMAND("trace", "inspect, validate, convert and synthesize traces", trace_command);

}  // namespace swatsim::cli
