#pragma once
// Design-space sweeps (docs/sweeps.md): a sweep file names a base accelerator config, axes (JSON
// pointers into the config with lists of values; keys in one group are zipped, groups are combined
// as a cartesian product), traces and run options. Every point x trace is a task run by a
// `swatsim run` worker process; each finished task is one file in the output directory, so a
// killed sweep resumes where it stopped and shards merge by copying files.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace swatsim::sim {

struct SweepAxisGroup {
  std::vector<std::string> pointers;                  ///< zipped keys
  std::vector<std::vector<nlohmann::ordered_json>> values;  ///< per pointer, equal lengths
  size_t size() const { return values.empty() ? 0 : values[0].size(); }
};

struct SweepRunOptions {
  std::string passes = "forward,input-grad,weight-grad";
  std::string iterations = "all";
  std::string layers = "all";
  std::string baseline;           ///< resolved path of a baseline config, "" = same hardware, sparsity off
  std::string baseline_sparsity;  ///< "", "on" or "off"
  /// The `swatsim run` options these stand for.
  std::vector<std::string> run_args() const;
};

struct Sweep {
  std::string file;   ///< the sweep file as named
  std::string name;
  /// FNV-1a 64 (hex) of the sweep file's bytes and every resolved point config: the identity of an
  /// output directory.
  std::string hash;
  nlohmann::ordered_json base;   ///< the base config with every section inlined
  std::vector<SweepAxisGroup> groups;
  std::vector<std::string> traces;       ///< as written in the sweep file (result columns)
  std::vector<std::string> trace_paths;  ///< resolved
  SweepRunOptions run;

  uint64_t points() const;
  std::vector<std::string> axis_pointers() const;
  /// The axis values of point `id` (first group slowest), in axis_pointers() order.
  std::vector<nlohmann::ordered_json> axis_values(uint64_t id) const;
  /// The resolved config of point `id` (every default filled in); throws InputError naming the
  /// sweep file and the point.
  nlohmann::ordered_json point_config(uint64_t id) const;
};

inline constexpr uint64_t kMaxSweepPoints = 100000;

/// Reads a sweep file and checks every point, every trace and the run options before anything
/// runs; the first problem is an InputError naming the sweep file, the axis and the point.
Sweep load_sweep(const std::string& path);

/// FNV-1a 64-bit hash of bytes, continuing from `h` (streaming).
uint64_t fnv1a(const std::string& bytes, uint64_t h = 0xcbf29ce484222325ull);

struct SweepRunSettings {
  std::string out;
  uint32_t jobs = 1;
  uint32_t shard = 0, shards = 1;  ///< this run does the points p with p % shards == shard
  bool retry_failed = false;
  bool progress = false;
  double task_timeout_s = 0;  ///< a worker running longer is killed and its task recorded as failed (0: no limit)
  std::string swatsim;  ///< the swatsim binary the workers exec (argv[0] of their command line)
  /// If set, a worker is a fork of this process that calls it with the `swatsim run ...` command
  /// line (without argv[0]) instead of exec'ing the binary: no program loading per task.
  std::function<int(const std::vector<std::string>&)> run_in_fork;
};

/// Creates the output directory and records the sweep in it, or checks that it holds this sweep
/// (another sweep's directory is an InputError).
void prepare_sweep_dir(const Sweep& sweep, const std::string& out);

/// Runs the sweep's tasks of one shard into settings.out; returns the number of failed tasks of the
/// shard (0: all done). A whole sweep (one shard) writes the result tables at the end; shards that
/// may share the directory leave them to `merge` (or `slurm --wait`), which sees every shard's tasks.
uint64_t run_sweep(const Sweep& sweep, const SweepRunSettings& settings);

struct SweepStatus {
  uint64_t tasks = 0, done = 0, failed = 0;
  std::vector<std::pair<std::string, std::string>> failures;  ///< (task, message)
  std::vector<std::string> running;                            ///< tasks a worker is running now (holds its log's lock)
  std::vector<std::string> missing;                            ///< tasks neither done, failed nor running
};
SweepStatus sweep_status(const std::string& dir);
/// Writes results.csv, results.jsonl and totals.csv of a sweep directory from its task files. A task
/// file that is not a usable report (damaged, or holding a non-number) is moved out of the tables:
/// recorded as failed with the reason (retried by --retry-failed); returns how many were.
uint64_t write_sweep_tables(const std::string& dir);
/// Joins shard directories of one sweep into `out` (which may be one of them or new).
SweepStatus merge_sweeps(const std::vector<std::string>& dirs, const std::string& out);

}  // namespace swatsim::sim
