#pragma once
// The `swatsim` command is a set of self-registering subcommands: a file in sim/cli/ defines one
// with SWATSIM_REGISTER_COMMAND and main() dispatches on argv[1]. Adding a command touches no
// other file.
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace swatsim::cli {

/// args[0] is the command name ("trace", "run", ...); the rest follow it on the command line.
using CommandFn = std::function<int(const std::vector<std::string>& args)>;

struct Command {
  std::string summary;
  CommandFn run;
};

std::map<std::string, Command>& command_table();

/// Runs the command args[0] with its arguments as `swatsim` would: bad input is one line on stderr
/// and exit status 2. Used by main and by sweep workers (forked, not exec'd).
int dispatch(const std::vector<std::string>& args);

struct CommandRegistrar {
  CommandRegistrar(const std::string& name, std::string summary, CommandFn fn) {
    command_table()[name] = Command{std::move(summary), std::move(fn)};
  }
};

}  // namespace swatsim::cli

#define SWATSIM_CONCAT_INNER(a, b) a##b
#define SWATSIM_CONCAT(a, b) SWATSIM_CONCAT_INNER(a, b)
#define SWATSIM_REGISTER_COMMAND(name, summary, fn) \
  static ::swatsim::cli::CommandRegistrar SWATSIM_CONCAT(swatsim_command_, __LINE__)(name, summary, fn)
