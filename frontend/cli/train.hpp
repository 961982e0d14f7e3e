#pragma once
// swat-train's work: the training run, the FLOP report and the step-time benchmark.
#include <iosfwd>

#include "cli/options.hpp"

namespace swatsim::frontend {

/// Runs what the options ask for; progress and tables go to `out`. Throws InputError for bad input.
int run_swat_train(const TrainOptions& o, std::ostream& out);

}  // namespace swatsim::frontend
