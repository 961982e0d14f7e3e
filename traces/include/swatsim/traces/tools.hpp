#pragma once
// What the `swatsim trace` subcommands do, as library calls.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>

#include "swatsim/traces/format.hpp"
#include "swatsim/traces/io.hpp"

namespace swatsim::traces {

struct ValidateSummary {
  uint64_t tensors = 0;
  uint64_t iterations = 0;
  uint64_t stored_bytes = 0;
  uint64_t bitmap_bytes = 0;
};
/// Reads every blob and checks everything the format promises. Throws InputError naming the
/// file and the iteration/layer/tensor at the first problem.
ValidateSummary validate(const std::string& path);

/// Prints the header, the layer table and per-tensor densities (mean over iterations).
void print_info(const std::string& path, std::ostream& out);

struct NpyImportOptions {
  TraceHeader header;  ///< model, dataset, swat settings, seed, batch; layers are filled in
  bool batch_from_dumps = false;  ///< record the dumps' N as the batch size (nothing better is known)
  uint32_t iteration = 0;
  ValueType values = ValueType::F32;  ///< how to store the values beside the masks (None: masks only)
  /// Per-file value types ("conv1-wgt" -> BF16) that override `values` (from trace-export.json).
  std::map<std::string, ValueType> value_overrides;
  /// .npy files of no listed layer are skipped instead of refused.
  bool ignore_unlisted = false;
};
/// One iteration's dump directory and the iteration number to record it as.
struct NpyIteration {
  std::string dir;
  uint32_t iteration = 0;
};
/// Writes a trace of several iterations, one dump directory each (sorted by iteration; the same
/// layer table in each). `options.iteration` is unused.
void import_npy(const std::vector<NpyIteration>& iterations, const std::string& trace_path, NpyImportOptions options);
/// Reads the NumPy-dump layout described in docs/trace-format.md and writes one iteration.
void import_npy(const std::string& dir, const std::string& trace_path, NpyImportOptions options);
/// Writes one iteration (default: the first recorded) of a trace in the NumPy-dump layout (masks as
/// 0/1 float32 where no values were stored) into `dir`, which must not exist or be empty; returns
/// the iteration written. The directory appears complete or not at all.
uint32_t export_npy(const std::string& trace_path, const std::string& dir, std::optional<uint32_t> iteration);

/// Writes the tensors of the given recorded iterations and layers (indices into the layer table,
/// sorted; they are renumbered in order) of `in` to `out`, values and their types kept. Streaming
/// and atomic; every blob is checked as it is read.
void slice_trace(const std::string& in, const std::string& out, const std::vector<uint32_t>& iterations,
                 const std::vector<uint32_t>& layers, const TraceWriter::Options& options = {});
/// Writes every iteration of `inputs` (the same model, dataset, batch, SWAT settings and layer table;
/// no iteration in two inputs) to `out` in increasing iteration order; the first input's header.
void merge_traces(const std::vector<std::string>& inputs, const std::string& out);

/// Returns what is wrong with a layer (name, geometry, sizes, tensor list), or "" if it is consistent.
std::string check_layer(const LayerInfo& l);
/// 1-255 of [A-Za-z0-9_.-], not "." or "..": layer names become file names on export.
bool valid_layer_name(const std::string& name);

/// Defaults for import_npy from what export_npy leaves in DIR (trace-header.json: the header without
/// its layer table; trace-export.json: the iteration and each tensor's value type), so that
/// import_npy(export_npy(T)) reproduces T byte for byte (with the values kept). Without those files: producer
/// "swatsim import-npy", iteration 0, float32 values.
NpyImportOptions npy_default_options(const std::string& dir);

/// Returns what is wrong with SWAT settings (ranges, names), or "" if they are valid.
std::string check_swat(const SwatSettings& s);

/// Synthetic traces: real layer tables with random masks at the requested densities, for tests,
/// benchmarks and design-space sweeps without a training run (docs/trace-format.md, "Synthetic traces").
struct SynthOptions {
  std::string model = "sample-cnn";  ///< one of synth_models()
  uint32_t samples = 2;               ///< N of every layer
  uint32_t iterations = 1;
  SwatSettings swat{0.8, 0.8, "uniform", "unstructured", 1, false};
  uint64_t seed = 1;
  bool values = false;  ///< store fp32 values beside the masks
};
std::vector<std::string> synth_models();
/// The forward-order layer table of `model` with N = samples; throws InputError for an unknown model.
std::vector<LayerInfo> model_layers(const std::string& model, uint32_t samples);
void synthesize(const std::string& path, const SynthOptions& options);

}  // namespace swatsim::traces
