#include <fmt/format.h>
#include "cli/options.hpp"

#include <boost/program_options.hpp>

#include <sstream>

#include "swatsim/common/error.hpp"

namespace swatsim::frontend {

namespace po = boost::program_options;

bool parse_options(int argc, const char* const* argv, TrainOptions& o, std::string& help_out) {
  po::options_description model("Model and data");
  model.add_options()
      ("help,h", "print this help")
      ("model", po::value(&o.model)->default_value(o.model),
       "small-cnn | resnet18 | resnet50 | vgg16 | wrn16-8 | densenet121 (CIFAR form, 32x32) | "
       "resnet50-imagenet | wrn50-2-imagenet (224x224)")
      ("dataset", po::value(&o.dataset)->default_value(o.dataset), "fashion-mnist | cifar10 | cifar100 | folder | synthetic")
      ("data-dir", po::value(&o.data_dir), "dataset directory (fashion-mnist: /usr/share/datasets/fashion-mnist)")
      ("input-size", po::value(&o.input_size)->default_value(0), "resize inputs to this (0: the model's native size); grey images are replicated to 3 channels")
      ("num-classes", po::value(&o.num_classes)->default_value(0), "classifier width (0: from the dataset)");
  po::options_description swat("SWAT");
  swat.add_options()
      ("sparsity", po::value(&o.sparsity)->default_value(o.sparsity, fmt::format("{}", o.sparsity)), "top-K weight sparsity in [0,1); 0 = dense training")
      ("act-sparsity", po::value(&o.act_sparsity)->default_value(o.act_sparsity, fmt::format("{}", o.act_sparsity)), "activation sparsity in [0,1) for every sparse layer; <0: equal to the layer's weight sparsity")
      ("distribution", po::value(&o.distribution)->default_value(o.distribution), "uniform (SWAT-U) | erk (SWAT-ERK) | momentum (SWAT-M)")
      ("structure", po::value(&o.structure)->default_value(o.structure), "unstructured | channel | filter")
      ("topk-period", po::value(&o.topk_period)->default_value(o.topk_period), "recompute top-K thresholds every N iterations")
      ("sparsify-first", po::bool_switch(&o.sparsify_first), "sparsify the first layer too (dense by default)");
  po::options_description train("Training");
  std::string milestones;
  train.add_options()
      ("batch", po::value(&o.batch)->default_value(o.batch), "batch size")
      ("iterations", po::value(&o.iterations)->default_value(0), "training iterations (overrides --epochs)")
      ("epochs", po::value(&o.epochs)->default_value(0.0), "training epochs (default 1 when --iterations is 0)")
      ("lr", po::value(&o.lr)->default_value(o.lr, fmt::format("{}", o.lr)), "peak learning rate")
      ("momentum", po::value(&o.momentum)->default_value(o.momentum, fmt::format("{}", o.momentum)), "SGD momentum")
      ("nesterov", po::bool_switch(&o.nesterov), "Nesterov momentum")
      ("weight-decay", po::value(&o.weight_decay)->default_value(o.weight_decay, fmt::format("{}", o.weight_decay)), "L2 weight decay")
      ("no-bn-decay", po::bool_switch(&o.no_bn_decay), "no weight decay on BatchNorm parameters")
      ("schedule", po::value(&o.schedule)->default_value(o.schedule), "step | cosine | constant")
      ("milestones", po::value(&milestones)->default_value("0.5,0.75"), "step schedule: comma-separated fractions of the run where lr *= gamma")
      ("gamma", po::value(&o.gamma)->default_value(o.gamma, fmt::format("{}", o.gamma)), "step schedule factor")
      ("warmup", po::value(&o.warmup)->default_value(0), "iterations of linear learning-rate warm-up")
      ("label-smoothing", po::value(&o.label_smoothing)->default_value(0.0), "label smoothing in [0,1)")
      ("seed", po::value(&o.seed)->default_value(0), "seed of initialization and data order")
      ("threads", po::value(&o.threads)->default_value(0), "CPU threads (0: all cores)")
      ("device", po::value(&o.device)->default_value(o.device), "auto | cpu | cuda")
      ("eval-every", po::value(&o.eval_every)->default_value(0), "evaluate every N iterations (0: each epoch end and at the end)")
      ("eval-samples", po::value(&o.eval_samples)->default_value(0), "evaluate on the first N test images (0: all)")
      ("no-eval", po::bool_switch(&o.no_eval), "skip evaluation");
  po::options_description files("Files");
  files.add_options()
      ("checkpoint", po::value(&o.checkpoint), "write a checkpoint here at the end (and every --checkpoint-every)")
      ("checkpoint-every", po::value(&o.checkpoint_every)->default_value(0), "iterations between checkpoints")
      ("save-init", po::value(&o.save_init), "write a checkpoint of the weights before the first iteration (replaying "
                                             "the run in PyTorch: docs/python.md)")
      ("dump-batches", po::value(&o.dump_batches), "write each trained iteration's inputs and labels to "
                                                   "DIR/iteration-N.pt (for replaying the run in PyTorch)")
      ("resume", po::value(&o.resume), "resume exactly from this checkpoint")
      ("log", po::value(&o.log), "JSON-lines log: one object per iteration (loss, accuracy, lr, per-layer densities)")
      ("report", po::value(&o.report), "write the FLOP and memory report (JSON) here and print it as a table")
      ("flops-only", po::bool_switch(&o.flops_only), "compute the report from shapes and the distribution, no training")
      ("trace", po::value(&o.trace), "record a swatsim trace here")
      ("trace-every", po::value(&o.trace_every)->default_value(1), "record every N-th iteration")
      ("trace-start", po::value(&o.trace_start)->default_value(0), "first iteration to record")
      ("trace-count", po::value(&o.trace_count)->default_value(0), "at most this many recorded iterations (0: no limit)")
      ("trace-samples", po::value(&o.trace_samples)->default_value(2), "samples of the batch to record")
      ("trace-values", po::bool_switch(&o.trace_values), "store fp32 values beside the masks")
      ("no-progress", "no progress bar")
      ("quiet", po::bool_switch(&o.quiet), "print only errors")
      ("bench-steps", po::value(&o.bench_steps)->default_value(0), "benchmark: time N SWAT steps and N dense steps side by side, no training run");
  po::options_description all("swat-train: train a CNN with SWAT (Sparse Weight Activation Training) and record traces");
  all.add(model).add(swat).add(train).add(files);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw InputError("command line", std::string(e.what()) + " (see --help)");
  }
  if (vm.count("help")) {
    std::ostringstream s;
    s << all;
    help_out = s.str();
    return false;
  }
  o.progress = !vm.count("no-progress") && !o.quiet;
  o.milestones.clear();
  {
    std::stringstream ss(milestones);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      try {
        o.milestones.push_back(std::stod(item));
      } catch (...) {
        throw InputError("--milestones", "not a number: '" + item + "'");
      }
      if (o.milestones.back() <= 0.0 || o.milestones.back() >= 1.0)
        throw InputError("--milestones", "each milestone is a fraction of the run in (0,1), got " + item);
    }
  }
  auto require = [](bool ok, const char* opt, const std::string& what) {
    if (!ok) throw InputError(opt, what);
  };
  require(o.sparsity >= 0.0 && o.sparsity < 1.0, "--sparsity", "expected a value in [0,1), got " + std::to_string(o.sparsity));
  require(o.act_sparsity < 1.0, "--act-sparsity", "expected a value in [0,1) (or negative: same as weights)");
  require(o.topk_period >= 1, "--topk-period", "expected an integer >= 1");
  require(o.batch >= 1, "--batch", "expected an integer >= 1");
  require(o.iterations >= 0, "--iterations", "expected an integer >= 0");
  require(o.epochs >= 0.0, "--epochs", "expected a value >= 0");
  require(o.lr > 0.0, "--lr", "expected a value > 0");
  require(o.momentum >= 0.0 && o.momentum < 1.0, "--momentum", "expected a value in [0,1)");
  require(o.weight_decay >= 0.0, "--weight-decay", "expected a value >= 0");
  require(o.schedule == "step" || o.schedule == "cosine" || o.schedule == "constant", "--schedule",
          "expected step, cosine or constant, got '" + o.schedule + "'");
  require(o.warmup >= 0, "--warmup", "expected an integer >= 0");
  require(o.label_smoothing >= 0.0 && o.label_smoothing < 1.0, "--label-smoothing", "expected a value in [0,1)");
  require(o.threads >= 0, "--threads", "expected an integer >= 0");
  require(o.device == "auto" || o.device == "cpu" || o.device == "cuda", "--device", "expected auto, cpu or cuda");
  require(o.input_size >= 0, "--input-size", "expected an integer >= 0");
  require(o.num_classes >= 0, "--num-classes", "expected an integer >= 0");
  require(o.trace_every >= 1, "--trace-every", "expected an integer >= 1");
  require(o.trace_samples >= 1, "--trace-samples", "expected an integer >= 1");
  require(o.trace_start >= 0 && o.trace_count >= 0, "--trace-start", "expected integers >= 0");
  require(o.eval_every >= 0 && o.eval_samples >= 0, "--eval-every", "expected integers >= 0");
  require(o.checkpoint_every >= 0, "--checkpoint-every", "expected an integer >= 0");
  require(o.bench_steps >= 0, "--bench-steps", "expected an integer >= 0");
  return true;
}

}  // namespace swatsim::frontend
