#pragma once
// Records the four tensors of every SWAT layer of chosen training iterations into a swatsim trace.
#include <memory>
#include <string>
#include <vector>

#include "models/models.hpp"
#include "swatsim/traces/io.hpp"

namespace swatsim::frontend {

/// The layer table of a trace for `layers` (shapes from probe_layers or the last forward),
/// with N = `samples`. SavedAct is listed only for layers whose activation is top-K sparsified.
std::vector<traces::LayerInfo> trace_layer_table(const std::vector<LayerEntry>& layers, int64_t samples);

class TraceRecorder {
public:
  TraceRecorder(const std::string& path, traces::TraceHeader header, std::vector<LayerEntry> layers,
                bool store_values);
  /// Writes the tensors the layers kept in this iteration's forward and backward pass, then clears them.
  void add(uint32_t iteration);
  void finish();
  int64_t iterations_written() const { return written_; }

private:
  std::vector<LayerEntry> layers_;
  std::unique_ptr<traces::TraceWriter> writer_;
  bool values_;
  int64_t written_ = 0;
};

}  // namespace swatsim::frontend
