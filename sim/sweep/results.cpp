// Sweep directories: the result tables, status and merging of shard directories. Everything here
// reads only the directory, so tables are the same whatever the jobs, shards or interruptions were.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "../config/binding.hpp"
#include "layout.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/report.hpp"
#include "swatsim/sim/sweep.hpp"

namespace swatsim::sim {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;
namespace L = sweep_layout;

namespace {

/// sweep.json, checked: {"sweep_hash": string, "axes": [string...], "traces": [string...],
/// "points": [{"id": n, "axes": [one value per axis]}...]}.
json read_meta(const std::string& dir) {
  const std::string path = L::meta_file(dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(dir, "is not a sweep directory (no such directory)");
  if (!fs::exists(path, ec)) throw InputError(dir, "is not a sweep directory (no sweep.json)");
  const json m = binding::read_json(path);
  auto bad = [&](const std::string& what) { return InputError(path, what); };
  if (!m.is_object()) throw bad("expected a JSON object");
  if (!m.contains("sweep_hash") || !m["sweep_hash"].is_string()) throw bad("/sweep_hash: expected a string");
  for (const char* key : {"axes", "traces"}) {
    if (!m.contains(key) || !m[key].is_array()) throw bad(fmt::format("/{}: expected an array", key));
    for (const auto& v : m[key])
      if (!v.is_string()) throw bad(fmt::format("/{}: expected strings, got {}", key, binding::type_name(v)));
  }
  if (!m.contains("points") || !m["points"].is_array()) throw bad("/points: expected an array");
  for (size_t i = 0; i < m["points"].size(); ++i) {
    const json& p = m["points"][i];
    if (!p.is_object() || !p.contains("id") || !p["id"].is_number_unsigned() || !p.contains("axes") ||
        !p["axes"].is_array() || p["axes"].size() != m["axes"].size())
      throw bad(fmt::format("/points/{}: expected {{\"id\": n, \"axes\": [{} values]}}", i, m["axes"].size()));
  }
  return m;
}

/// A task's report (`swatsim run --out`), checked for what the tables read.
json read_task(const std::string& file) {
  const json r = binding::read_json(file);
  auto bad = [&](const std::string& what) { return InputError(file, what + " (not a swatsim run report)"); };
  if (!r.is_object() || !r.contains("stats") || !r["stats"].is_object()) throw bad("/stats: expected an object");
  if (!r.contains("rows") || !r["rows"].is_array()) throw bad("/rows: expected an array");
  auto check_row = [&](const json& row, const std::string& where, bool per_layer) {
    if (!row.is_object()) throw bad(where + ": expected an object");
    if (!row.contains("pass") || !row["pass"].is_string()) throw bad(where + "/pass: expected a string");
    if (per_layer) {
      for (const char* k : {"iteration", "layer", "samples"})
        if (!row.contains(k) || !row[k].is_number_unsigned()) throw bad(fmt::format("{}/{}: expected a count", where, k));
      if (!row.contains("name") || !row["name"].is_string()) throw bad(where + "/name: expected a string");
    }
    for (const auto& [k, v] : row.items())
      if (r["stats"].contains(k) && !v.is_number()) throw bad(fmt::format("{}/{}: expected a number", where, k));
  };
  for (size_t i = 0; i < r["rows"].size(); ++i) check_row(r["rows"][i], fmt::format("/rows/{}", i), true);
  if (!r.contains("total")) throw bad("/total: missing");
  check_row(r["total"], "/total", false);
  return r;
}

std::string csv_value(const json& v) { return csv_field(v.is_string() ? v.get<std::string>() : v.dump()); }

/// Whether a worker holds the task's log locked (spawn() in runner.cpp): it is running now.
bool task_running(const std::string& dir, const std::string& task) {
  const std::string log = L::log_file(dir, task);
  const int fd = ::open(log.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);  // a FIFO never blocks
  if (fd < 0) return false;
  const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return locked;
}

}  // namespace

uint64_t write_sweep_tables(const std::string& dir) {
  const json meta = read_meta(dir);
  const auto& axes = meta["axes"];
  const auto& traces = meta["traces"];
  // Columns: point, trace, one per axis (its pointer), then every statistic any task reports, in the
  // order they are first met (points with other memory or energy sections may report more).
  std::vector<std::string> stat_names;
  std::vector<std::pair<uint64_t, uint64_t>> tasks;  // (point index in meta, trace)
  uint64_t rejected = 0;
  for (uint64_t i = 0; i < meta["points"].size(); ++i)
    for (uint64_t t = 0; t < traces.size(); ++t) {
      const std::string name = L::task_name(meta["points"][i]["id"].get<uint64_t>(), t);
      const std::string file = L::task_file(dir, name);
      if (!L::task_done(dir, name)) continue;
      json report;
      try {
        report = read_task(file);
      } catch (const InputError& e) {
        // One unusable report never stops the tables of the others: it becomes a failed task.
        json f;
        f["task"] = name;
        f["point"] = meta["points"][i]["id"];
        f["trace"] = traces[t];
        f["status"] = "unusable report";
        f["message"] = e.what();
        f["kept_as"] = "failed/" + name + ".report";
        write_file_atomically(L::failed_file(dir, name), [&](std::ostream& o) {
          o << f.dump(1, ' ', false, json::error_handler_t::replace) << "\n";  // the report's bytes need not be UTF-8
        });
        // Moved out of the tables (kept for a look), or, if it cannot be moved, removed.
        std::error_code ec;
        fs::rename(file, L::failed_file(dir, name) + ".report", ec);
        if (ec) fs::remove(file, ec);
        ++rejected;
        continue;
      }
      tasks.emplace_back(i, t);
      for (const auto& [stat, info] : report["stats"].items())
        if (std::find(stat_names.begin(), stat_names.end(), stat) == stat_names.end()) stat_names.push_back(stat);
    }
  AtomicFile csv(dir + "/results.csv"), jsonl(dir + "/results.jsonl"), totals(dir + "/totals.csv");
  std::string h = "point,trace";
  for (const auto& a : axes) h += "," + csv_field(a.get<std::string>());
  csv.stream() << h << ",iteration,layer,pass,name,samples";
  totals.stream() << h << ",pass";
  for (const auto& s : stat_names) {
    csv.stream() << "," << csv_field(s);
    totals.stream() << "," << csv_field(s);
  }
  csv.stream() << "\n";
  totals.stream() << "\n";
  for (const auto& [i, t] : tasks) {
    const json& point = meta["points"][i];
    const uint64_t p = point["id"].get<uint64_t>();
    const json report = read_task(L::task_file(dir, L::task_name(p, t)));
    std::string prefix = fmt::format("{},{}", p, csv_value(traces[t]));
    json base;
    base["point"] = p;
    base["trace"] = traces[t];
    for (size_t a = 0; a < axes.size(); ++a) {
      prefix += "," + csv_value(point["axes"][a]);
      base[axes[a].get<std::string>()] = point["axes"][a];
    }
    auto stats = [&](std::ostream& out, const json& row) {
      for (const auto& s : stat_names) out << "," << (row.contains(s) ? row[s].dump() : std::string());
      out << "\n";
    };
    for (const auto& row : report["rows"]) {
      csv.stream() << prefix << "," << row["iteration"] << "," << row["layer"] << "," << csv_value(row["pass"]) << ","
                   << csv_value(row["name"]) << "," << row["samples"];
      stats(csv.stream(), row);
      json line = base;
      for (const auto& [k, v] : row.items()) line[k] = v;
      jsonl.stream() << line.dump() << "\n";
    }
    totals.stream() << prefix << "," << csv_value(report["total"]["pass"]);
    stats(totals.stream(), report["total"]);
  }
  csv.commit();
  jsonl.commit();
  totals.commit();
  return rejected;
}

SweepStatus sweep_status(const std::string& dir) {
  const json meta = read_meta(dir);
  SweepStatus st;
  for (const auto& point : meta["points"])
    for (uint64_t t = 0; t < meta["traces"].size(); ++t) {
      const std::string task = L::task_name(point["id"].get<uint64_t>(), t);
      ++st.tasks;
      if (L::task_done(dir, task)) {
        ++st.done;
      } else if (fs::exists(L::failed_file(dir, task))) {
        ++st.failed;
        const json f = binding::read_json(L::failed_file(dir, task));
        auto text = [&](const char* key) {
          return f.is_object() && f.contains(key) && f[key].is_string() ? f[key].get<std::string>() : std::string("?");
        };
        st.failures.emplace_back(task, text("status") + ": " + text("message"));
      } else if (task_running(dir, task)) {
        st.running.push_back(task);
      } else {
        st.missing.push_back(task);
      }
    }
  return st;
}

SweepStatus merge_sweeps(const std::vector<std::string>& dirs, const std::string& out) {
  if (dirs.empty()) throw InputError("command line", "merge needs at least one sweep directory");
  const json first = read_meta(dirs[0]);
  std::vector<json> metas;
  for (const auto& d : dirs) {
    metas.push_back(read_meta(d));
    if (metas.back()["sweep_hash"] != first["sweep_hash"])
      throw InputError(d, fmt::format("holds another sweep (hash {}) than {} (hash {})",
                                      metas.back()["sweep_hash"].get<std::string>(), dirs[0],
                                      first["sweep_hash"].get<std::string>()));
  }
  std::error_code ec;
  // The same rule as `sweep run --out`: a directory holding another sweep, or anything that is not a
  // sweep's (a user's results.csv), is never written into.
  claim_sweep_dir(out, first);
  const fs::path out_canonical = fs::weakly_canonical(out, ec);
  for (const auto& d : dirs) {
    if (fs::weakly_canonical(d, ec) == out_canonical) continue;
    for (const char* sub : {"points", "tasks", "failed", "logs"}) {
      for (const auto& e : fs::directory_iterator(d + "/" + sub, ec)) {
        const std::string name = e.path().filename().string();
        if (name.find(".tmp.") != std::string::npos) continue;
        const std::string target = out + "/" + sub + "/" + name;
        std::error_code size_ec;
        if (fs::exists(target) && (std::string(sub) != "tasks" || fs::file_size(target, size_ec) > 0)) continue;
        if (std::string(sub) == "failed" && fs::exists(out + "/tasks/" + name)) continue;
        const std::string tmp = target + ".tmp." + std::to_string(::getpid());
        fs::copy_file(e.path(), tmp, fs::copy_options::overwrite_existing, ec);
        if (ec) throw InputError(target, "cannot copy: " + ec.message());
        fs::rename(tmp, target, ec);
        if (ec) throw InputError(target, "cannot rename into place: " + ec.message());
      }
    }
  }
  // A task done in one shard and failed in another is done.
  for (const auto& e : fs::directory_iterator(out + "/failed", ec))
    if (fs::exists(out + "/tasks/" + e.path().filename().string())) fs::remove(e.path(), ec);
  write_sweep_tables(out);
  return sweep_status(out);
}

}  // namespace swatsim::sim
