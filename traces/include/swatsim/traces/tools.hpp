#pragma once
// What the `swatsim trace` subcommands do, as library calls.
#include <cstdint>
#include <iosfwd>
#include <string>

#include "swatsim/traces/format.hpp"

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
  uint32_t iteration = 0;
  bool store_values = true;  ///< keep the fp32 values beside the masks
};
/// Reads the NumPy-dump layout described in docs/trace-format.md and writes one iteration.
void import_npy(const std::string& dir, const std::string& trace_path, NpyImportOptions options);
/// Writes one iteration of a trace in the NumPy-dump layout (masks as 0/1 float32 without values).
void export_npy(const std::string& trace_path, const std::string& dir, uint32_t iteration);

/// Returns the checked layer geometry error, or an empty string if the layer is consistent.
std::string check_layer(const LayerInfo& l);

}  // namespace swatsim::traces

namespace swatsim::traces {
/// The non-layer header fields for import_npy: from DIR/trace-header.json (which export_npy writes)
/// when present, otherwise defaults (producer "swatsim import-npy").
TraceHeader npy_default_header(const std::string& dir);
}  // namespace swatsim::traces

namespace swatsim::traces {
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
