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

/// A count option: an integer in [1, max] (no sign, no fraction); otherwise an InputError naming it.
uint32_t parse_count(const std::string& text, const char* option, uint32_t max);

/// An InputError if `output` resolves to the same file as one of `inputs` (it would be overwritten
/// or would destroy an input); `relation` says what the other file is, e.g. "an input file".
void refuse_same_file(const std::string& output, const char* option, const std::vector<std::string>& inputs,
                      const char* relation = "an input file");

}  // namespace swatsim::cli
