#include "options.hpp"

#include <iostream>

#include "swatsim/common/error.hpp"

namespace po = boost::program_options;

namespace swatsim::cli {

bool parse_options(const std::vector<std::string>& args, po::options_description& desc,
                   const po::positional_options_description& positional, po::variables_map& vm,
                   const std::string& usage) {
  desc.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << usage << "\n\n" << desc << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw InputError("command line", std::string(e.what()) + "\n" + usage);
  }
  return true;
}

}  // namespace swatsim::cli
