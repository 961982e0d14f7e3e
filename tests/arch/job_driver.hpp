#pragma once
// A SystemC driver for tests: feeds the same jobs to several accelerators, one job at a time, and
// collects their results (one simulation per test process: sc_start once).
#include <systemc>

#include <vector>

#include "swatsim/arch/accelerator.hpp"

namespace testutil {

struct JobDriver : sc_core::sc_module {
  std::vector<swatsim::arch::Accelerator*> accs;
  std::vector<const swatsim::arch::PassInput*> jobs;
  std::vector<std::vector<swatsim::arch::JobResult>> results;  ///< [accelerator][job]
  JobDriver(sc_core::sc_module_name n, std::vector<swatsim::arch::Accelerator*> a,
            std::vector<const swatsim::arch::PassInput*> j)
      : sc_module(n), accs(std::move(a)), jobs(std::move(j)), results(accs.size()) {
    SC_HAS_PROCESS(JobDriver);
    SC_THREAD(run);
  }
  void run() {
    for (const auto* in : jobs) {
      for (auto* a : accs) a->jobs.write(in);
      for (size_t i = 0; i < accs.size(); ++i) {
        const swatsim::arch::JobResult* r = nullptr;
        accs[i]->results.read(r);
        results[i].push_back(*r);
      }
    }
    for (auto* a : accs) a->jobs.write(nullptr);
  }
};

}  // namespace testutil
