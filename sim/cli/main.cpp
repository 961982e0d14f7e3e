// swatsim: entry point. Dispatches to the subcommands registered in sim/cli/.
#include <systemc>

#include <cstdlib>
#include <filesystem>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "command.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/version.hpp"

namespace swatsim::cli {
std::map<std::string, Command>& command_table() {
  static std::map<std::string, Command> table;
  return table;
}
}  // namespace swatsim::cli

namespace {
void print_usage(std::ostream& out) {
  out << "usage: swatsim COMMAND [ARGS...]\n\n"
         "Replays sparse training traces on SystemC models of sparse training accelerators.\n\n"
         "commands:\n";
  for (const auto& [name, cmd] : swatsim::cli::command_table())
    out << fmt::format("  {:<10} {}\n", name, cmd.summary);
  out << "\n'swatsim COMMAND --help' describes a command.\n";
}
}  // namespace

// libsystemc.so's main() prints SystemC's copyright banner before it calls sc_main. Our own main()
// takes precedence over the library's, silences the banner (unless the user set the variable) and
// then hands over to SystemC as its main() would.
int main(int argc, char* argv[]) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", /*overwrite=*/0);
  return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? swatsim::kExitBadInput : 0;
  }
  if (args[0] == "--version") {
    std::cout << "swatsim " << swatsim::version() << "\n";
    return 0;
  }
  return swatsim::cli::dispatch(args);
}

namespace swatsim::cli {
namespace {
/// An error is one line: control characters a path or value brought in are shown escaped.
std::string one_line(const std::string& s) { return escape_control(s); }
}  // namespace

int dispatch(const std::vector<std::string>& args) {
  auto& table = command_table();
  auto it = table.find(args[0]);
  if (it == table.end()) {
    std::cerr << "swatsim: unknown command '" << args[0] << "'; see swatsim --help\n";
    return kExitBadInput;
  }
  try {
    return it->second.run(args);
  } catch (const InputError& e) {
    std::cerr << "swatsim " << args[0] << ": error: " << one_line(e.what()) << "\n";
    return kExitBadInput;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the system refuses (too long, not permitted, a NUL byte): bad input, not a bug.
    std::cerr << "swatsim " << args[0] << ": error: " << one_line(e.path1().string()) << ": " << e.code().message() << "\n";
    return kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::cerr << "swatsim " << args[0] << ": error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "swatsim " << args[0] << ": internal error: " << one_line(e.what()) << "\n";
    return 1;
  }
}
}  // namespace swatsim::cli
