// The TLM-2.0 target: one b_transport per block, the delay is the engine's completion time.
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "dram_test_util.hpp"
#include "swatsim/arch/dram_target.hpp"

namespace swatsim::test {
namespace {

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket;
  std::vector<std::pair<uint64_t, sc_core::sc_time>> finished;  // (block, time it was done)
  explicit Initiator(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    SC_HAS_PROCESS(Initiator);
    SC_THREAD(run);
  }
  void run() {
    wait(100, sc_core::SC_NS);
    for (uint64_t block = 0; block < 3; ++block) {
      tlm::tlm_generic_payload p;
      p.set_command(block == 1 ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
      p.set_address(block << 20);
      p.set_data_length(8192);
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      socket->b_transport(p, delay);
      EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
      wait(delay);
      finished.emplace_back(block, sc_core::sc_time_stamp());
    }
  }
};

TEST(DramTarget, OneCallPerBlockMatchesTheEngine) {
  const Spec spec = preset("ddr4-3200");
  arch::dram::DramTarget target("dram", spec, 2);
  Initiator init("init");
  init.socket.bind(target.socket);
  sc_core::sc_start();
  ASSERT_EQ(init.finished.size(), 3u);
  // The same blocks on a bare engine: each starts at the memory cycle its predecessor finished.
  System sys(spec, 2);
  const double tck = 0.625;
  Cycle start = Cycle(std::ceil(100 / tck));  // 160
  for (uint64_t block = 0; block < 3; ++block) {
    const Cycle done = sys.transfer(block << 20, 8192, block == 1, start);
    EXPECT_EQ(init.finished[block].second, sc_core::sc_time(double(done) * tck, sc_core::SC_NS)) << block;
    start = done;
  }
  EXPECT_EQ(target.engine().requests(), 3u * 8192 / 64);
}

}  // namespace
}  // namespace swatsim::test
