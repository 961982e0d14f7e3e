// `swatsim run`: replays a trace on an accelerator config and reports cycles and speedup.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "command.hpp"
#include "options.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"
#include "swatsim/sim/replay.hpp"
#include "swatsim/sim/report.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace swatsim::cli {
namespace {

constexpr const char* kRunUsage =
    "usage: swatsim run --arch CONFIG.json --trace TRACE [--iterations LIST] [--layers LIST]\n"
    "                   [--passes LIST] [--baseline CONFIG.json [--baseline-sparsity on|off]]\n"
    "                   [--reference CONFIG.json|none] [--map-only]\n"
    "                   [--out REPORT.json] [--csv ROWS.csv] [--progress] [-q] [--timing]\n\n"
    "Replays every recorded iteration and layer of TRACE (forward, input-grad, weight-grad; no\n"
    "input-grad for the first layer) on the accelerator of CONFIG and on a baseline, prints a table,\n"
    "and writes JSON / CSV reports. The default baseline is the same hardware with sparsity\n"
    "exploitation off. A --baseline CONFIG is another accelerator and runs as built, exploiting\n"
    "sparsity if its PE type can (a dense-systolic array never skips); --baseline-sparsity off makes\n"
    "it treat every operand as dense. Every row also compares with a dense reference accelerator\n"
    "(--reference, or the config's \"reference\" key; none: no reference), run with every operand\n"
    "dense; the baseline's and the reference's own statistics are reported beside the accelerator's.\n"
    "LIST: numbers and ranges, e.g. 0,2,5-7 (--layers also takes layer names); a range selects what\n"
    "the trace records inside it and must select something; --passes: forward,input-grad,weight-grad.\n"
    "--out and --csv are checked before the replay and both are put in place only when both are\n"
    "complete.";

std::vector<arch::Pass> parse_passes(const std::string& s) {
  std::vector<arch::Pass> out;
  std::stringstream ss(s);
  std::string item;
  bool seen[arch::kPasses] = {false, false, false};
  while (std::getline(ss, item, ',')) {
    const auto p = arch::pass_from_string(item);
    if (!p) throw InputError("--passes", fmt::format("expected forward, input-grad or weight-grad, got '{}'", item));
    seen[int(*p)] = true;
  }
  for (int i = 0; i < arch::kPasses; ++i)
    if (seen[i]) out.push_back(arch::Pass(i));
  if (out.empty()) throw InputError("--passes", "no pass selected");
  return out;
}

/// Jobs done, the last one's layer and pass, elapsed time and time left (by the jobs' pace so far).
class ProgressBar {
public:
  explicit ProgressBar(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
  void operator()(uint64_t done, uint64_t total, const std::string& what) {
    if (!on_ || total == 0) return;
    const auto now = std::chrono::steady_clock::now();
    // At most ten redraws a second (and the last): a terminal is slower than a small layer.
    if (done != total && now - drawn_ < std::chrono::milliseconds(100)) return;
    drawn_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double left = done ? elapsed / double(done) * double(total - done) : 0.0;
    const int pct = int(done * 100 / total), width = 30, fill = pct * width / 100;
    const std::string line = fmt::format("[{}{}] {:3d}% {}/{} samples, {:.0f} s, ~{:.0f} s left; {}", std::string(size_t(fill), '#'),
                                         std::string(size_t(width - fill), ' '), pct, done, total, elapsed, left, what);
    std::cerr << "\r" << line << std::string(last_width_ > line.size() ? last_width_ - line.size() : 0, ' ');
    last_width_ = line.size();
    if (done == total) std::cerr << "\n";
    std::cerr.flush();
  }

private:
  bool on_;
  std::chrono::steady_clock::time_point start_, drawn_{};
  size_t last_width_ = 0;
};

int run_command(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::string arch_path, trace, iterations, layers, passes, baseline, baseline_sparsity, reference, out, csv;
  desc.add_options()
      ("arch", po::value(&arch_path)->required(), "accelerator config (JSON)")
      ("trace", po::value(&trace)->required(), "trace file")
      ("iterations", po::value(&iterations), "recorded iterations to replay (default: all)")
      ("layers", po::value(&layers), "layers to replay: indices, ranges or names (default: all)")
      ("passes", po::value(&passes), "passes to replay (default: forward,input-grad,weight-grad)")
      ("baseline", po::value(&baseline),
       "baseline accelerator config, run as built (default: same hardware, sparsity off)")
      ("baseline-sparsity", po::value(&baseline_sparsity),
       "on|off: whether the --baseline accelerator exploits sparsity (default: on)")
      ("reference", po::value(&reference),
       "dense reference accelerator config, or none (default: the config's \"reference\" key)")
      ("out", po::value(&out), "write the JSON report (every figure and the resolved configs) here")
      ("csv", po::value(&csv), "write one CSV row per layer and pass here")
      ("progress", "always show the progress bar (default: only when stderr is a terminal)")
      ("map-only", "choose and print every layer's and pass's mapping with its estimated DRAM traffic; simulate no cycle")
      ("quiet,q", "no table on stdout, no progress bar")
      ("timing", "print wall-clock time and simulated dense MACs per second on stderr");
  po::variables_map vm;
  if (!parse_options(std::vector<std::string>(args.begin() + 1, args.end()), desc, {}, vm, kRunUsage)) return 0;
  sim::ReplayOptions o;
  o.trace = trace;
  o.config = sim::load_accelerator_config(arch_path);
  for (const auto& w : o.config.warnings) std::cerr << "swatsim run: warning: " << w << "\n";
  if (vm.count("baseline")) o.baseline = sim::load_accelerator_config(baseline);
  if (vm.count("baseline-sparsity")) {
    if (baseline_sparsity != "on" && baseline_sparsity != "off")
      throw InputError("--baseline-sparsity", fmt::format("expected on or off, got '{}'", baseline_sparsity));
    if (!o.baseline)
      throw InputError("--baseline-sparsity",
                       "applies only with --baseline (the default baseline is this hardware with sparsity off)");
    o.baseline_sparsity = baseline_sparsity == "on";
  }
  if (vm.count("reference")) {
    if (reference != "none") {
      o.reference = sim::load_accelerator_config(reference);
      if (o.reference->reference)  // as the "reference" key refuses it: one rule whichever way it is named
        throw InputError(reference, "/reference: a reference accelerator names no reference of its own");
    }
  } else if (o.config.reference) {
    o.reference = *o.config.reference;
  }
  if (vm.count("iterations")) o.iterations = sim::parse_index_list(iterations, "--iterations");
  if (vm.count("layers")) sim::parse_layer_list(layers, o.layers, o.layer_names);
  if (vm.count("passes")) o.passes = parse_passes(passes);
  const bool quiet = vm.count("quiet") != 0;
  o.map_only = vm.count("map-only") != 0;
  if (o.map_only && o.config.memory_type == "ideal")
    throw InputError("--map-only", fmt::format("{} has ideal memory: nothing to map (the mapper maps the passes of a "
                                               "memory hierarchy)", arch_path));

  // Both outputs are opened (checked) before the replay and put in place only when both are written.
  // Every file the run reads: the named ones and those the configs read their sections from.
  std::vector<std::string> inputs{trace, arch_path, baseline, reference};
  for (const arch::AcceleratorConfig* c : {&o.config, o.baseline ? &*o.baseline : nullptr, o.reference ? &*o.reference : nullptr})
    if (c) inputs.insert(inputs.end(), c->sources.begin(), c->sources.end());
  if (!out.empty()) refuse_same_file(out, "--out", inputs);
  if (!csv.empty()) refuse_same_file(csv, "--csv", inputs);
  if (!out.empty() && !csv.empty()) refuse_same_file(csv, "--csv", {out}, "the same file as --out");
  std::unique_ptr<AtomicFile> out_file, csv_file;
  if (!out.empty()) out_file = std::make_unique<AtomicFile>(out);
  if (!csv.empty()) csv_file = std::make_unique<AtomicFile>(csv);

  ProgressBar bar(!quiet && (vm.count("progress") || ::isatty(2)));
  const auto t0 = std::chrono::steady_clock::now();
  const sim::ReplayResult result = sim::replay(o, [&](uint64_t d, uint64_t t, const std::string& w) { bar(d, t, w); });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const sim::Report report = sim::build_report(result, o);
  if (!quiet && out != "-" && csv != "-")  // stdout holds a report
    o.map_only ? sim::write_mappings(report, std::cout) : sim::write_text(report, std::cout);
  if (out_file) {
    out_file->stream() << sim::to_json(report).dump(2) << "\n";
    out_file->close_temp();
  }
  if (csv_file) {
    sim::write_csv(report, csv_file->stream());
    csv_file->close_temp();
  }
  if (out_file) out_file->commit();
  if (csv_file) csv_file->commit();
  if (vm.count("timing")) {
    const double macs = report.total.stats.find("macs.dense")->value;
    std::cerr << fmt::format("swatsim run: {} jobs, {:.4g} dense MACs simulated in {:.6f} s wall ({:.4g} dense MACs/s)\n",
                             result.jobs, macs, wall, wall > 0 ? macs / wall : 0.0);
  }
  return 0;
}

}  // namespace

SWATSIM_REGISTER_COMMAND("run", "replay a trace on an accelerator config; cycles and speedup", run_command);

}  // namespace swatsim::cli
