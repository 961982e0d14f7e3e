#pragma once
// Command-line parsing shared by the subcommands (Boost.program_options).
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace swatsim::cli {

/// Parses argv-style `args` (without the command's own name) against `desc`, to which it adds
/// --help, and `positional`. --help prints `usage` and the options and returns false; a parse
/// error is an InputError naming the command line, with the usage.
bool parse_options(const std::vector<std::string>& args, boost::program_options::options_description& desc,
                   const boost::program_options::positional_options_description& positional,
                   boost::program_options::variables_map& vm, const std::string& usage);

}  // namespace swatsim::cli
