#pragma once
// The DRAM engine as a TLM-2.0 target for the accelerator (loosely timed, b_transport). One call
// moves one block: the engine cuts it into bursts by the address mapping and schedules them with
// the same queues and timing as single requests, and the call returns with `delay` set to when the
// block is done (reads: last data returned; writes: last burst buffered). There is no SystemC
// event per burst, nor per block: the initiator wait()s the delay. The model carries timing only:
// the payload's data pointer is not read or written.
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "swatsim/arch/dram.hpp"

namespace swatsim::arch::dram {

class DramTarget : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<DramTarget> socket;

  DramTarget(sc_core::sc_module_name name, const Spec& spec, uint32_t requests_per_cycle);
  System& engine() { return engine_; }
  /// One memory clock period as SystemC time.
  const sc_core::sc_time& clock_period() const { return tck_; }

private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  System engine_;
  sc_core::sc_time tck_;
};

}  // namespace swatsim::arch::dram
