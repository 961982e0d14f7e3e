#include "options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"

namespace po = boost::program_options;

namespace swatsim::cli {

bool parse_options(const std::vector<std::string>& args, po::options_description& desc,
                   const po::positional_options_description& positional, po::variables_map& vm,
                   const std::string& usage) {
  desc.add_options()("help,h", "show this help");
  // No swatsim option takes a negative number; Boost would wrap "-1" into 4294967295 for an unsigned.
  auto negative = [](const std::string& v) {
    return v.size() > 1 && v[0] == '-' && (std::isdigit(static_cast<unsigned char>(v[1])) || v[1] == '.');
  };
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    const auto eq = args[i].find('=');
    if (args[i].rfind("--", 0) == 0 && eq != std::string::npos && negative(args[i].substr(eq + 1)))
      throw InputError(args[i].substr(0, eq),
                       fmt::format("expected a non-negative number, got '{}'; see --help", args[i].substr(eq + 1)));
    // "-1" after an option that takes a value (not a positional argument such as a file "-1.swt")
    if (i > 0 && negative(args[i]) && args[i - 1].size() > 1 && args[i - 1][0] == '-' &&
        args[i - 1].find('=') == std::string::npos) {
      const std::string opt = args[i - 1].rfind("--", 0) == 0 ? args[i - 1].substr(2) : args[i - 1].substr(1);
      const auto* o = desc.find_nothrow(opt, false);
      if (o && o->semantic()->max_tokens() > 0)
        throw InputError(args[i - 1], fmt::format("expected a non-negative number, got '{}'; see --help", args[i]));
    }
  }
  try {
    po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << usage << "\n\n" << desc << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw InputError("command line", std::string(e.what()) + "; see --help");
  }
  // No option takes an empty string (`--out ''` would write nothing, silently).
  for (const auto& [name, value] : vm) {
    const auto* opt = desc.find_nothrow(name, false);
    if (opt && opt->semantic()->max_tokens() == 0) continue;  // a flag
    const auto* text = boost::any_cast<std::string>(&value.value());
    const auto* list = boost::any_cast<std::vector<std::string>>(&value.value());
    if ((text && text->empty()) || (list && std::find(list->begin(), list->end(), "") != list->end()))
      throw InputError("--" + name, "expected a value, got an empty string");
  }
  return true;
}

uint32_t parse_count(const std::string& s, const char* option, uint32_t max) {
  uint32_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 1 || v > max)
    throw InputError(option, fmt::format("expected an integer in [1, {}], got '{}'", max, s));
  return v;
}

void refuse_same_file(const std::string& output, const char* option, const std::vector<std::string>& inputs,
                      const char* relation) {
  namespace fs = std::filesystem;
  std::error_code e1;
  const fs::path o = fs::weakly_canonical(output, e1);
  if (e1) return;
  for (const auto& in : inputs) {
    std::error_code e2;
    if (!in.empty() && fs::weakly_canonical(in, e2) == o && !e2)
      throw InputError(option, fmt::format("names {} ('{}'); it would be overwritten", relation, output));
  }
}

}  // namespace swatsim::cli
