// swat-train: trains a CNN with SWAT in LibTorch, records swatsim traces, reports FLOPs.
#include <exception>
#include <iostream>

#include "cli/options.hpp"
#include "cli/train.hpp"
#include "swatsim/common/error.hpp"

int main(int argc, char** argv) {
  using namespace swatsim;
  try {
    frontend::TrainOptions o;
    std::string help;
    if (!frontend::parse_options(argc, argv, o, help)) {
      std::cout << help;
      return 0;
    }
    return frontend::run_swat_train(o, std::cout);
  } catch (const InputError& e) {
    std::cerr << "swat-train: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    std::cerr << "swat-train: error: " << msg << "\n";
    return 1;
  }
}
