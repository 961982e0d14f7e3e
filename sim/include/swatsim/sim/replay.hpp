#pragma once
// Trace replay: every selected iteration, layer and pass of a trace, a pass over the batch at a
// time, on the SystemC accelerator, its baseline and its reference (if any), in one simulation.
// Each accelerator runs as if alone (its memory system keeps its own clock).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "swatsim/arch/accelerator.hpp"
#include "swatsim/arch/config.hpp"
#include "swatsim/arch/layer.hpp"
#include "swatsim/traces/io.hpp"

namespace swatsim::sim {

/// One item of a selection list: "5" is [5, 5], "5-7" is [5, 7]. Kept as a range so that a huge
/// range costs nothing; replay intersects it with what the trace records.
struct IndexRange {
  uint32_t first = 0, last = 0;
  bool operator==(const IndexRange& o) const { return first == o.first && last == o.last; }
};

struct ReplayOptions {
  std::string trace;
  arch::AcceleratorConfig config;
  /// Another accelerator as the baseline; if empty, `config` with sparsity exploitation off.
  std::optional<arch::AcceleratorConfig> baseline;
  /// Whether the named `baseline` exploits sparsity (it is another accelerator, run as it is
  /// built); ignored without a named baseline.
  bool baseline_sparsity = true;
  /// The dense reference accelerator (--reference, or the config's `reference` key), run with every
  /// operand dense; none: no reference columns.
  std::optional<arch::AcceleratorConfig> reference;
  /// Choose and report every job's mapping and its estimated traffic, simulate no cycle.
  bool map_only = false;
  /// Recorded iterations to replay; empty: all. A range selects the recorded iterations inside it
  /// and must select at least one; a single number must be recorded.
  std::vector<IndexRange> iterations;
  /// Layer indices; empty (and no names): all. Ranges are capped at the trace's layer count and
  /// must select at least one layer; a single index must exist.
  std::vector<IndexRange> layers;
  std::vector<std::string> layer_names;  ///< layers selected by name, added to `layers`
  std::vector<arch::Pass> passes{arch::Pass::Forward, arch::Pass::InputGrad, arch::Pass::WeightGrad};
};

/// One iteration, layer and pass, summed over the layer's samples.
struct ReplayRow {
  uint32_t iteration = 0;
  uint32_t layer = 0;
  std::string layer_name;
  arch::Pass pass = arch::Pass::Forward;
  uint32_t samples = 0;
  arch::JobResult result;    ///< the accelerator
  arch::JobResult baseline;  ///< the baseline
  arch::JobResult reference; ///< the reference accelerator (zero without one)
};

struct ReplayResult {
  std::vector<ReplayRow> rows;
  uint64_t jobs = 0;
};

/// Called after each job with (jobs done, jobs in total, what was just done: "iteration 0, layer 3
/// (conv2), forward").
using ProgressFn = std::function<void(uint64_t, uint64_t, const std::string&)>;

/// Parses "0,2,5-7" into its items, in the order written (not expanded); `what` names the option
/// in errors.
std::vector<IndexRange> parse_index_list(const std::string& list, const std::string& what);
/// Splits a --layers list into indices/ranges and layer names ("0-3,fc,layer1.0.conv1").
void parse_layer_list(const std::string& list, std::vector<IndexRange>& indices, std::vector<std::string>& names);

/// What --iterations and --layers (ranges and names) select in a trace: recorded iterations and
/// layer indices, sorted; all of them when nothing is given. A range must select something, a single
/// number must exist (InputError naming the option and the trace otherwise).
struct TraceSelection {
  std::vector<uint32_t> iterations, layers;
};
TraceSelection select_in_trace(const traces::TraceReader& reader, const std::vector<IndexRange>& iterations,
                               const std::vector<IndexRange>& layers, const std::vector<std::string>& layer_names);

/// Runs the replay (one SystemC elaboration and sc_start per process: call once).
/// Throws InputError for traces that lack a tensor a pass needs, or for unknown selections.
ReplayResult replay(const ReplayOptions& options, const ProgressFn& progress = {});

/// Sums job results (cycles add: jobs run one after another).
void accumulate(arch::JobResult& into, const arch::JobResult& r);

}  // namespace swatsim::sim
