#pragma once
// swat-train's command line (no LibTorch here).
#include <cstdint>
#include <string>
#include <vector>

namespace swatsim::frontend {

struct TrainOptions {
  std::string model = "small-cnn";
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  int64_t input_size = 0;   ///< 0: the model's native size
  int64_t num_classes = 0;  ///< 0: from the dataset (flops-only: 1000 for ImageNet forms, else 10)
  // SWAT
  double sparsity = 0.0;
  double act_sparsity = -1.0;  ///< <0: equal to each layer's weight sparsity
  std::string distribution = "uniform";
  std::string structure = "unstructured";
  int64_t topk_period = 1;
  bool sparsify_first = false;
  // training
  int64_t batch = 128;
  int64_t iterations = 0;
  double epochs = 0.0;
  double lr = 0.1, momentum = 0.9, weight_decay = 5e-4;
  bool nesterov = false, no_bn_decay = false;
  std::string schedule = "step";  ///< step | cosine | constant
  std::vector<double> milestones;  ///< fractions of the run for step (default 0.5, 0.75)
  double gamma = 0.1;
  int64_t warmup = 0;  ///< iterations of linear warm-up
  double label_smoothing = 0.0;
  uint64_t seed = 0;
  int64_t threads = 0;  ///< 0: all cores
  std::string device = "auto";
  int64_t eval_every = 0;  ///< iterations; 0: at the end of each epoch and of the run
  int64_t eval_samples = 0;  ///< 0: the whole test split
  bool no_eval = false;
  // files
  std::string checkpoint, resume, log, report;
  std::string save_init;     ///< a checkpoint of the weights before the first iteration
  std::string dump_batches;  ///< a directory for each trained iteration's inputs and labels
  bool flops_only = false;
  int64_t checkpoint_every = 0;
  std::string trace;
  int64_t trace_every = 1, trace_samples = 2, trace_start = 0, trace_count = 0;
  bool trace_values = false;
  bool progress = true;
  bool quiet = false;
  // benchmark mode: time SWAT step vs dense step
  int64_t bench_steps = 0;
};

/// Parses the command line. Returns false if --help was printed (to `help_out`).
/// Throws InputError for unknown options and out-of-range values.
bool parse_options(int argc, const char* const* argv, TrainOptions& o, std::string& help_out);

}  // namespace swatsim::frontend
