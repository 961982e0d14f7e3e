// `swatsim config {validate,show,types}`: checks accelerator configs and prints them resolved.
#include <iostream>

#include <fmt/format.h>

#include "command.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"

namespace swatsim::cli {
namespace {

constexpr const char* kConfigUsage =
    "usage: swatsim config VERB\n\n"
    "verbs:\n"
    "  validate FILE...   check accelerator configs (unknown keys, types, ranges, section files)\n"
    "  show FILE          print the resolved config with every default filled in\n"
    "  types              list the PE and memory types with their parameters\n";

int config_command(const std::vector<std::string>& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    (args.size() < 2 ? std::cerr : std::cout) << kConfigUsage;
    return args.size() < 2 ? kExitBadInput : 0;
  }
  const std::string& verb = args[1];
  for (size_t i = 2; i < args.size(); ++i)
    if (args[i] == "--help" || args[i] == "-h") {  // a verb's help, not a file named --help
      std::cout << kConfigUsage;
      return 0;
    }
  if (verb == "types" && args.size() > 2)
    throw InputError("command line", "types takes no arguments; see swatsim config --help");
  if (verb == "validate") {
    if (args.size() < 3) throw InputError("command line", "validate needs a file; see swatsim config --help");
    for (size_t i = 2; i < args.size(); ++i) {
      for (const auto& w : sim::load_accelerator_config(args[i]).warnings) std::cerr << "swatsim config: warning: " << w << "\n";
      std::cout << args[i] << ": ok\n";
    }
    return 0;
  }
  if (verb == "show") {
    if (args.size() != 3) throw InputError("command line", "show needs one file; see swatsim config --help");
    std::cout << sim::to_json(sim::load_accelerator_config(args[2])).dump(2) << "\n";
    return 0;
  }
  if (verb == "types") {
    std::cout << sim::describe_types().dump(2) << "\n";
    return 0;
  }
  throw InputError("command line", fmt::format("unknown verb '{}'; see swatsim config --help", verb));
}

}  // namespace

SWATSIM_REGISTER_COMMAND("config", "validate and show accelerator configs; list PE types", config_command);

}  // namespace swatsim::cli
