// `swatsim sweep {expand,run,status,merge,slurm}`: design-space sweeps from a JSON file (docs/sweeps.md).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "command.hpp"
#include "options.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/sweep.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace swatsim::cli {
namespace {

constexpr const char* kSweepUsage =
    "usage: swatsim sweep expand SWEEP.json\n"
    "       swatsim sweep run SWEEP.json --out DIR [--jobs N] [--shard I/N] [--retry-failed] [--task-timeout S]\n"
    "                         [--progress]\n"
    "       swatsim sweep status DIR\n"
    "       swatsim sweep merge DIR... --out DIR\n"
    "       swatsim sweep slurm SWEEP.json --out DIR --shards N [--wait] [--sbatch-args \"...\"]\n\n"
    "Design-space sweeps (docs/sweeps.md). A sweep file names a base config, axes (JSON pointers into\n"
    "the config with lists of values; keys in one group are zipped, groups are combined as a cartesian\n"
    "product), traces and run options; every point is checked before anything runs. `run` runs each\n"
    "(point, trace) as a `swatsim run` worker process (N at a time, default: the cores) and writes its\n"
    "report into DIR; a rerun skips what is done (resume), --retry-failed reruns failed tasks;\n"
    "--shard I/N does the points p with p % N == I (0 <= I < N). DIR/results.csv, results.jsonl and\n"
    "totals.csv hold one row per point, trace, iteration, layer and pass (and per point and trace).\n"
    "`slurm` writes DIR/slurm/sweep.sbatch, a job array of N shards, submits it with sbatch, and with\n"
    "--wait waits for it and writes the tables. Shards that share DIR leave the tables to `merge`\n"
    "(`swatsim sweep merge DIR --out DIR` rewrites them). Exit status: 0 all done, 1 some task failed\n"
    "or is missing, 2 bad input.";

std::string self_exe() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the swatsim binary: " + ec.message());
  return p.string();
}

void print_status(const sim::SweepStatus& st, std::ostream& out) {
  out << fmt::format("{} tasks: {} done, {} failed, {} running, {} missing\n", st.tasks, st.done, st.failed, st.running.size(),
                     st.missing.size());
  for (const auto& [task, message] : st.failures) out << fmt::format("  failed  {}: {}\n", task, message);
  for (size_t i = 0; i < st.running.size() && i < 20; ++i) out << "  running " << st.running[i] << "\n";
  for (size_t i = 0; i < st.missing.size() && i < 20; ++i) out << "  missing " << st.missing[i] << "\n";
  if (st.missing.size() > 20) out << fmt::format("  ... and {} more missing\n", st.missing.size() - 20);
}

bool wants_help(const std::vector<std::string>& rest) {
  if (rest.size() != 1 || (rest[0] != "--help" && rest[0] != "-h")) return false;
  std::cout << kSweepUsage << "\n";
  return true;
}

int expand(const std::vector<std::string>& rest) {
  if (wants_help(rest)) return 0;
  if (rest.size() != 1) throw InputError("command line", "expand needs one sweep file; see --help");
  const sim::Sweep s = sim::load_sweep(rest[0]);
  const auto pointers = s.axis_pointers();
  std::cout << "point";
  for (const auto& p : pointers) std::cout << "\t" << p;
  std::cout << "\n";
  for (uint64_t p = 0; p < s.points(); ++p) {
    std::cout << p;
    for (const auto& v : s.axis_values(p)) std::cout << "\t" << v.dump();
    std::cout << "\n";
  }
  auto count = [](uint64_t n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); };
  std::cerr << fmt::format("{}: {} x {} = {}\n", s.name, count(s.points(), "point", "points"),
                           count(s.traces.size(), "trace", "traces"), count(s.points() * s.traces.size(), "task", "tasks"));
  return 0;
}

int run(const std::vector<std::string>& rest) {
  po::options_description desc("options");
  std::string sweep, out, jobs, shard;
  desc.add_options()("sweep", po::value(&sweep)->required(), "sweep file")(
      "out", po::value(&out)->required(), "output directory")("jobs", po::value(&jobs), "worker processes (default: the cores)")(
      "shard", po::value(&shard), "I/N: run the points p with p % N == I")("retry-failed", "rerun the failed tasks")(
      "progress", "always show the progress bar (default: when stderr is a terminal)")("quiet,q", "no progress, no summary")(
      "task-timeout", po::value<std::string>(), "seconds a task may run; a task past it is killed and recorded as failed "
                                               "(default: no limit)");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_options(rest, desc, pos, vm, kSweepUsage)) return 0;
  sim::SweepRunSettings o;
  if (vm.count("task-timeout")) o.task_timeout_s = double(parse_count(vm["task-timeout"].as<std::string>(), "--task-timeout", 1000000));
  o.out = out;
  o.jobs = vm.count("jobs") ? parse_count(jobs, "--jobs", 1024) : std::max(1u, std::thread::hardware_concurrency());
  if (vm.count("shard")) {
    const auto slash = shard.find('/');
    uint32_t i = 0;
    auto r = std::from_chars(shard.data(), shard.data() + (slash == std::string::npos ? 0 : slash), i, 10);
    if (slash == std::string::npos || r.ec != std::errc() || r.ptr != shard.data() + slash)
      throw InputError("--shard", fmt::format("expected I/N with 0 <= I < N, got '{}'", shard));
    o.shards = parse_count(shard.substr(slash + 1), "--shard", 1u << 20);
    o.shard = i;
    if (o.shard >= o.shards) throw InputError("--shard", fmt::format("expected I/N with 0 <= I < N, got '{}'", shard));
  }
  o.retry_failed = vm.count("retry-failed") != 0;
  const bool quiet = vm.count("quiet") != 0;
  o.progress = !quiet && (vm.count("progress") || ::isatty(2));
  o.swatsim = self_exe();
  o.run_in_fork = dispatch;
  const sim::Sweep s = sim::load_sweep(sweep);
  const uint64_t failed = sim::run_sweep(s, o);
  if (!quiet) {
    const auto st = sim::sweep_status(out);
    std::cerr << fmt::format("{}: shard {}/{}: {} failed; directory: ", s.name, o.shard, o.shards, failed);
    print_status(st, std::cerr);
  }
  return failed ? 1 : 0;
}

int status(const std::vector<std::string>& rest) {
  if (wants_help(rest)) return 0;
  if (rest.size() != 1) throw InputError("command line", "status needs one sweep directory; see --help");
  const auto st = sim::sweep_status(rest[0]);
  print_status(st, std::cout);
  return st.done == st.tasks ? 0 : 1;
}

int merge(const std::vector<std::string>& rest) {
  po::options_description desc("options");
  std::vector<std::string> dirs;
  std::string out;
  desc.add_options()("dirs", po::value(&dirs)->multitoken()->required(), "shard directories")(
      "out", po::value(&out)->required(), "merged directory");
  po::positional_options_description pos;
  pos.add("dirs", -1);
  po::variables_map vm;
  if (!parse_options(rest, desc, pos, vm, kSweepUsage)) return 0;
  const auto st = sim::merge_sweeps(dirs, out);
  print_status(st, std::cout);
  return st.done == st.tasks ? 0 : 1;
}

/// Runs `sh -c command` and returns its exit status; stdout is captured.
int shell(const std::string& command, std::string& output) {
  output.clear();
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + command);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  const int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int slurm(const std::vector<std::string>& rest) {
  po::options_description desc("options");
  std::string sweep, out, shards_text, sbatch_args, jobs_text = "1";
  desc.add_options()("sweep", po::value(&sweep)->required(), "sweep file")(
      "out", po::value(&out)->required(), "output directory (on a file system every node sees)")(
      "shards", po::value(&shards_text)->required(), "array tasks, one shard each")(
      "jobs", po::value(&jobs_text), "worker processes per array task (default 1; give the task as many CPUs)")(
      "wait", "wait for the job array to end, then write the tables and report")(
      "sbatch-args", po::value(&sbatch_args), "more sbatch options, e.g. \"--partition=x --time=1:00:00\" (split by the shell)");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_options(rest, desc, pos, vm, kSweepUsage)) return 0;
  const uint32_t shards = parse_count(shards_text, "--shards", 100000);
  const uint32_t jobs = parse_count(jobs_text, "--jobs", 1024);
  const sim::Sweep s = sim::load_sweep(sweep);
  std::error_code ec;
  const std::string dir = fs::absolute(out).lexically_normal().string();
  // An #SBATCH directive is one line that sbatch splits at white space; quoting does not apply there.
  if (std::any_of(dir.begin(), dir.end(), [](char c) {
        return (unsigned char)c <= 0x20 || c == 0x7f || c == '#' || c == '\'' || c == '"' || c == '\\';
      }))
    throw InputError(out, "--out: a Slurm output directory cannot contain white space, control characters, #, quotes "
                          "or backslashes (the batch script's #SBATCH --output directive could not hold it)");
  sim::prepare_sweep_dir(s, out);
  const std::string sweep_abs = fs::absolute(sweep).lexically_normal().string();
  fs::create_directories(dir + "/slurm", ec);
  const std::string script = dir + "/slurm/sweep.sbatch";
  write_file_atomically(script, [&](std::ostream& o) {
    o << "#!/bin/bash\n"
      << "# Written by `swatsim sweep slurm`: one shard of the sweep per array task.\n"
      << "#SBATCH --job-name=" << shell_quote("swatsim-" + s.name) << "\n"
      << "#SBATCH --array=0-" << shards - 1 << "\n"
      << "#SBATCH --cpus-per-task=" << jobs << "\n"
      << "#SBATCH --output=" << dir << "/slurm/task-%a.out\n"
      << "set -eu\n"
      << "export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1\n"
      << "exec " << shell_quote(self_exe()) << " sweep run " << shell_quote(sweep_abs) << " --out " << shell_quote(dir)
      << " --shard \"$SLURM_ARRAY_TASK_ID/" << shards << "\" --jobs " << jobs << " -q\n";
  });
  fs::permissions(script, fs::perms::owner_exec, fs::perm_options::add, ec);
  const std::string cmd = fmt::format("sbatch --parsable{} {} {}", vm.count("wait") ? " --wait" : "", sbatch_args,
                                      shell_quote(script));
  std::string output;
  const int rc = shell(cmd + " 2>&1", output);
  // `sbatch --parsable` prints the job id first; with --wait its exit status is the worst of the
  // array's tasks, so a failed task is reported by the status below, not as a failed submission.
  const std::string first = output.substr(0, output.find('\n'));
  const std::string job = first.substr(0, first.find(';'));
  const bool submitted = !job.empty() && job.find_first_not_of("0123456789") == std::string::npos;
  if (!submitted) {
    std::cerr << "swatsim sweep: error: sbatch failed (exit " << rc << "): " << output;
    return 1;
  }
  if (!vm.count("wait")) {
    std::cout << fmt::format("submitted job array {} ({} shards); script {}\n", job, shards, script);
    return 0;
  }
  sim::write_sweep_tables(dir);
  const auto st = sim::sweep_status(dir);
  std::cout << fmt::format("job array {} ended (sbatch exit {})\n", job, rc);
  print_status(st, std::cout);
  return st.done == st.tasks ? 0 : 1;
}

int sweep_command(const std::vector<std::string>& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    (args.size() < 2 ? std::cerr : std::cout) << kSweepUsage << "\n";
    return args.size() < 2 ? kExitBadInput : 0;
  }
  const std::vector<std::string> rest(args.begin() + 2, args.end());
  const std::string& verb = args[1];
  if (verb == "expand") return expand(rest);
  if (verb == "run") return run(rest);
  if (verb == "status") return status(rest);
  if (verb == "merge") return merge(rest);
  if (verb == "slurm") return slurm(rest);
  throw InputError("command line", fmt::format("unknown verb '{}'; see swatsim sweep --help", verb));
}

}  // namespace

SWATSIM_REGISTER_COMMAND("sweep", "design-space sweeps: expand, run (resumable, shardable), merge, status, Slurm",
                         sweep_command);

}  // namespace swatsim::cli
