#include "swatsim/arch/dram_target.hpp"

namespace swatsim::arch::dram {

DramTarget::DramTarget(sc_core::sc_module_name name, const Spec& spec, uint32_t requests_per_cycle)
    : sc_module(name), socket("socket"), engine_(spec, requests_per_cycle), tck_(spec.tCK_ns, sc_core::SC_NS) {
  socket.register_b_transport(this, &DramTarget::b_transport);
}

void DramTarget::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const uint64_t address = trans.get_address(), bytes = trans.get_data_length();
  const uint64_t capacity = engine_.spec().capacity_bytes();
  if (address >= capacity || bytes > capacity - address) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (trans.get_command() == tlm::TLM_IGNORE_COMMAND) {
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const uint64_t tck = tck_.value();
  const Cycle not_before = ((now + delay).value() + tck - 1) / tck;  // the next memory clock edge
  const Cycle done = engine_.transfer(address, bytes, trans.get_command() == tlm::TLM_WRITE_COMMAND, not_before);
  delay = sc_core::sc_time::from_value(done * tck) - now;
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace swatsim::arch::dram
