// `swatsim dram`: runs a request trace (DRAMsim3 / Ramulator form) through the DRAM model alone.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "command.hpp"
#include "options.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/dram_config.hpp"
#include "swatsim/sim/dram_report.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace swatsim::cli {
namespace {

constexpr const char* kDramUsage =
    "usage: swatsim dram --dram CONFIG.json --trace REQUESTS [--out REPORT.json] [--issue-per-cycle N]\n"
    "                    [--wrap-addresses] [--commands CMDS.txt] [-q] [--timing]\n\n"
    "Runs a request trace through the DRAM model (docs/dram.md) and reports cycles, bandwidth,\n"
    "latencies, row hits, commands and energy. CONFIG is a DRAM section: {\"preset\": \"ddr4-3200\"}\n"
    "or \"hbm2\" with any parameter overridden, or every device parameter.\n"
    "REQUESTS: one request per line, 'ADDRESS READ|WRITE CYCLE' (hex address with 0x, memory-clock\n"
    "cycle), sorted by cycle; blank lines and lines starting with # are skipped. Requests enter in\n"
    "file order, at most N per cycle (default 1), never before their cycle + 1 (DRAMsim3's front end);\n"
    "a request whose channel's queue is full waits, and every later request waits behind it. An address beyond the capacity is\n"
    "an error unless --wrap-addresses folds it. --commands writes every command issued\n"
    "('cycle channel command rank bankgroup bank row').";

constexpr uint64_t kMaxCycle = uint64_t(1) << 62;  // far beyond any run; keeps cycle arithmetic exact

/// The memory system's trace reader: one request per line, checked as it is read.
class RequestReader {
public:
  RequestReader(const std::string& path, uint64_t capacity, bool wrap) : path_(path), capacity_(capacity), wrap_(wrap) {
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || !fs::exists(st)) throw InputError(path, "cannot open request trace: no such file");
    if (!fs::is_regular_file(st))
      throw InputError(path, fs::is_directory(st) ? "is a directory, not a request trace"
                                                  : "is not a regular file, not a request trace");
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw InputError(path, "cannot open request trace");
  }
  ~RequestReader() {
    std::free(line_);
    if (file_) std::fclose(file_);
  }
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  /// Next request; false at the end of the file.
  bool next(uint64_t& address, bool& is_write, uint64_t& cycle) {
    for (;;) {
      const ssize_t n = read_line();
      if (n < 0) return false;
      ++number_;
      const char* p = line_;
      const char* end = line_ + n;
      skip_space(p, end);
      if (p == end || *p == '#') continue;
      parse(p, end, address, is_write, cycle);
      return true;
    }
  }

private:
  static constexpr size_t kMaxLine = 4096;  // a request line is ~40 bytes; longer is not a request trace
  /// One line into line_ (without reading more than kMaxLine bytes of it); -1 at the end.
  ssize_t read_line() {
    // Byte by byte (the stream is buffered): a NUL byte is seen, not taken for the end of the line.
    if (!line_) line_ = static_cast<char*>(std::malloc(kMaxLine + 1));
    size_t n = 0;
    int c = EOF;
    while (n < kMaxLine && (c = std::getc(file_)) != EOF) {
      line_[n++] = char(c);
      if (c == '\n') break;
    }
    if (std::ferror(file_)) throw InputError(path_, "read error");
    if (n == 0) return -1;
    if (n == kMaxLine && line_[n - 1] != '\n' && (c = std::getc(file_)) != EOF) {
      std::ungetc(c, file_);
      throw InputError(fmt::format("{}:{}", path_, number_ + 1),
                       fmt::format("line longer than {} bytes: not a request trace", kMaxLine));
    }
    if (std::memchr(line_, '\0', n))
      throw InputError(fmt::format("{}:{}", path_, number_ + 1), "a NUL byte in the line: not a request trace");
    line_[n] = '\0';
    return ssize_t(n);
  }
  static void skip_space(const char*& p, const char* end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
  }
  static std::string_view word(const char*& p, const char* end) {
    const char* s = p;
    while (p < end && !(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
    return {s, size_t(p - s)};
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}:{}", path_, number_), what);
  }
  static std::string shown(std::string_view w) {
    std::string out;
    for (char c : w.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
  }
  void parse(const char* p, const char* end, uint64_t& address, bool& is_write, uint64_t& cycle) {
    const std::string_view a = word(p, end);
    if (a.size() < 3 || a[0] != '0' || (a[1] != 'x' && a[1] != 'X'))
      fail(fmt::format("expected 'ADDRESS READ|WRITE CYCLE' with a hex address starting with 0x, got '{}'", shown(a)));
    auto r = std::from_chars(a.data() + 2, a.data() + a.size(), address, 16);
    if (r.ec != std::errc() || r.ptr != a.data() + a.size())
      fail(fmt::format("expected a 64-bit hex address, got '{}'", shown(a)));
    skip_space(p, end);
    const std::string_view kind = word(p, end);
    if (kind == "READ")
      is_write = false;
    else if (kind == "WRITE")
      is_write = true;
    else
      fail(fmt::format("expected READ or WRITE after the address, got '{}'", shown(kind)));
    skip_space(p, end);
    const std::string_view c = word(p, end);
    auto rc = std::from_chars(c.data(), c.data() + c.size(), cycle, 10);
    if (c.empty() || rc.ec != std::errc() || rc.ptr != c.data() + c.size() || cycle >= kMaxCycle)
      fail(fmt::format("expected a cycle (an integer in [0, 2^62)) after {}, got '{}'", kind, shown(c)));
    skip_space(p, end);
    if (p != end) fail(fmt::format("expected the end of the line after the cycle, got '{}'", shown(word(p, end))));
    if (cycle < last_cycle_)
      fail(fmt::format("the trace must be sorted by cycle: cycle {} after cycle {}", cycle, last_cycle_));
    last_cycle_ = cycle;
    if (address >= capacity_) {
      if (!wrap_)
        fail(fmt::format("address 0x{:x} is beyond the capacity of {} bytes (--wrap-addresses folds it)", address,
                         capacity_));
      address &= capacity_ - 1;  // capacity is a power of two
    }
  }

  std::string path_;
  uint64_t capacity_;
  bool wrap_;
  std::FILE* file_ = nullptr;
  char* line_ = nullptr;
  uint64_t number_ = 0, last_cycle_ = 0;
};

// The fast engine places commands out of cycle order: its log is held and written sorted by cycle
// (stable, so commands of one cycle keep their order).
struct CommandLog {
  std::ostream* out = nullptr;
  bool hold = false;
  std::vector<arch::dram::CommandRecord> held;
  static void take(void* ctx, const arch::dram::CommandRecord& c) {
    auto& log = *static_cast<CommandLog*>(ctx);
    if (log.hold)
      log.held.push_back(c);
    else
      log.write(c);
  }
  void write(const arch::dram::CommandRecord& c) const {
    *out << c.cycle << ' ' << c.channel << ' ' << arch::dram::to_string(c.kind) << (c.auto_precharge ? "A" : "") << ' '
         << c.rank << ' ' << c.bankgroup << ' ' << c.bank << ' ' << c.row << '\n';
  }
  void flush() {
    std::stable_sort(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.cycle < b.cycle; });
    for (const auto& c : held) write(c);
    held.clear();
  }
};

int dram_command(const std::vector<std::string>& args) {
  po::options_description desc("options");
  std::string dram_path, trace, out, commands, per_cycle_text = "1";
  desc.add_options()
      ("dram", po::value(&dram_path)->required(),
       "DRAM config (JSON): a preset and overrides, or a full set; or a preset's name (ddr4-3200, hbm2)")
      ("trace", po::value(&trace)->required(), "request trace: 'ADDRESS READ|WRITE CYCLE' per line")
      ("out", po::value(&out), "write the JSON report here")
      ("issue-per-cycle", po::value(&per_cycle_text), "requests entering per memory cycle, at most (default 1)")
      ("wrap-addresses", "fold addresses beyond the capacity into it instead of rejecting them")
      ("commands", po::value(&commands), "write every command issued here")
      ("quiet,q", "no summary on stdout")
      ("timing", "print wall-clock time and simulated requests per second on stderr");
  po::variables_map vm;
  if (!parse_options(std::vector<std::string>(args.begin() + 1, args.end()), desc, {}, vm, kDramUsage)) return 0;
  const uint32_t per_cycle = parse_count(per_cycle_text, "--issue-per-cycle", 1024);
  const sim::DramConfig config = sim::load_dram_config(dram_path);
  if (!out.empty()) refuse_same_file(out, "--out", {dram_path, trace});
  if (!commands.empty()) refuse_same_file(commands, "--commands", {dram_path, trace});
  if (!commands.empty()) refuse_same_file(commands, "--commands", {out}, "the same file as --out");

  RequestReader reader(trace, config.spec.capacity_bytes(), vm.count("wrap-addresses") != 0);
  std::unique_ptr<AtomicFile> out_file, cmd_file;
  if (!out.empty()) out_file = std::make_unique<AtomicFile>(out);
  if (!commands.empty()) cmd_file = std::make_unique<AtomicFile>(commands);

  const auto t0 = std::chrono::steady_clock::now();
  arch::dram::System system(config.spec, per_cycle);
  CommandLog log;
  if (cmd_file) {
    log.out = &cmd_file->stream();
    log.hold = config.spec.engine == arch::dram::Engine::Fast;
    system.on_command(&CommandLog::take, &log);
  }
  uint64_t address = 0, cycle = 0, id = 0;
  bool is_write = false;
  // The trace front end takes one cycle, as in DRAMsim3 (its CPU adds a request of trace cycle T to
  // the controller at T + 1): reported cycles and --commands then read as DRAMsim3's.
  while (reader.next(address, is_write, cycle)) system.request(id++, address, is_write, cycle + 1);
  system.finish();
  if (cmd_file) log.flush();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const auto report = sim::dram_report(config, system);
  if (!vm.count("quiet")) sim::write_dram_summary(report, std::cout);
  if (out_file) {
    out_file->stream() << report.dump(2) << "\n";
    out_file->close_temp();
  }
  if (cmd_file) cmd_file->close_temp();
  if (out_file) out_file->commit();
  if (cmd_file) cmd_file->commit();
  if (vm.count("timing"))
    std::cerr << fmt::format("swatsim dram: {} requests simulated in {:.6f} s wall ({:.4g} requests/s)\n", id, wall,
                             wall > 0 ? double(id) / wall : 0.0);
  return 0;
}

}  // namespace

SWATSIM_REGISTER_COMMAND("dram", "run a request trace through the DRAM model; bandwidth, latency, energy",
                         dram_command);

}  // namespace swatsim::cli
