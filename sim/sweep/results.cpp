// Sweep directories: the result tables, status and merging of shard directories. Everything here
// reads only the directory, so tables are the same whatever the jobs, shards or interruptions were.
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "../config/binding.hpp"
#include "layout.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/sweep.hpp"

namespace swatsim::sim {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;
namespace L = sweep_layout;

namespace {

json read_meta(const std::string& dir) {
  const std::string path = L::meta_file(dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(dir, "is not a sweep directory (no such directory)");
  if (!fs::exists(path, ec)) throw InputError(dir, "is not a sweep directory (no sweep.json)");
  const json m = binding::read_json(path);
  for (const char* key : {"sweep_hash", "axes", "traces", "points"})
    if (!m.is_object() || !m.contains(key)) throw InputError(path, fmt::format("missing key \"{}\"", key));
  return m;
}

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}
std::string csv_value(const json& v) { return csv_field(v.is_string() ? v.get<std::string>() : v.dump()); }

}  // namespace

void write_sweep_tables(const std::string& dir) {
  const json meta = read_meta(dir);
  const auto& axes = meta["axes"];
  const auto& traces = meta["traces"];
  AtomicFile csv(dir + "/results.csv"), jsonl(dir + "/results.jsonl"), totals(dir + "/totals.csv");
  std::vector<std::string> stat_names;
  bool header = false;
  for (const auto& point : meta["points"]) {
    const uint64_t p = point["id"].get<uint64_t>();
    for (uint64_t t = 0; t < traces.size(); ++t) {
      const std::string file = L::task_file(dir, L::task_name(p, t));
      if (!fs::exists(file)) continue;
      const json report = binding::read_json(file);
      if (!header) {  // columns: point, trace, one per axis (its pointer), then the report's
        for (const auto& [name, info] : report["stats"].items()) stat_names.push_back(name);
        std::string h = "point,trace";
        for (const auto& a : axes) h += "," + csv_field(a.get<std::string>());
        csv.stream() << h << ",iteration,layer,pass,name,samples";
        totals.stream() << h << ",pass";
        for (const auto& s : stat_names) {
          csv.stream() << "," << s;
          totals.stream() << "," << s;
        }
        csv.stream() << "\n";
        totals.stream() << "\n";
        header = true;
      }
      std::string prefix = fmt::format("{},{}", p, csv_value(traces[t]));
      json base;
      base["point"] = p;
      base["trace"] = traces[t];
      for (size_t a = 0; a < axes.size(); ++a) {
        prefix += "," + csv_value(point["axes"][a]);
        base[axes[a].get<std::string>()] = point["axes"][a];
      }
      for (const auto& row : report["rows"]) {
        csv.stream() << prefix << "," << row["iteration"] << "," << row["layer"] << "," << csv_value(row["pass"]) << ","
                     << csv_value(row["name"]) << "," << row["samples"];
        json line = base;
        for (const auto& [k, v] : row.items()) line[k] = v;
        for (const auto& s : stat_names) csv.stream() << "," << (row.contains(s) ? row[s].dump() : std::string());
        csv.stream() << "\n";
        jsonl.stream() << line.dump() << "\n";
      }
      const json& total = report["total"];
      totals.stream() << prefix << "," << csv_value(total["pass"]);
      for (const auto& s : stat_names) totals.stream() << "," << (total.contains(s) ? total[s].dump() : std::string());
      totals.stream() << "\n";
    }
  }
  csv.commit();
  jsonl.commit();
  totals.commit();
}

SweepStatus sweep_status(const std::string& dir) {
  const json meta = read_meta(dir);
  SweepStatus st;
  for (const auto& point : meta["points"])
    for (uint64_t t = 0; t < meta["traces"].size(); ++t) {
      const std::string task = L::task_name(point["id"].get<uint64_t>(), t);
      ++st.tasks;
      if (fs::exists(L::task_file(dir, task))) {
        ++st.done;
      } else if (fs::exists(L::failed_file(dir, task))) {
        ++st.failed;
        const json f = binding::read_json(L::failed_file(dir, task));
        st.failures.emplace_back(task, f.value("status", std::string("?")) + ": " + f.value("message", std::string("?")));
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
  if (fs::exists(L::meta_file(out), ec)) {
    if (read_meta(out)["sweep_hash"] != first["sweep_hash"])
      throw InputError(out, "holds another sweep than the directories to merge");
  }
  for (const char* sub : {"", "/points", "/tasks", "/failed", "/logs"}) fs::create_directories(out + sub, ec);
  if (!fs::exists(L::meta_file(out)))
    write_file_atomically(L::meta_file(out), [&](std::ostream& o) { o << first.dump(1) << "\n"; });
  const fs::path out_canonical = fs::weakly_canonical(out, ec);
  for (const auto& d : dirs) {
    if (fs::weakly_canonical(d, ec) == out_canonical) continue;
    for (const char* sub : {"points", "tasks", "failed", "logs"}) {
      for (const auto& e : fs::directory_iterator(d + "/" + sub, ec)) {
        const std::string name = e.path().filename().string();
        if (name.find(".tmp.") != std::string::npos) continue;
        const std::string target = out + "/" + sub + "/" + name;
        if (fs::exists(target)) continue;
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
