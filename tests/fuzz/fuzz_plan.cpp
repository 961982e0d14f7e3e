// The PE models' plan() and the memory model's operand sizing on fuzzed small geometry and masks:
// whatever the validator accepts, every PE type plans without crashing, and every unit's blocks
// size in every format.
#include <vector>

#include "fuzz_util.hpp"
#include "swatsim/arch/config.hpp"
#include "swatsim/arch/operand_blocks.hpp"
#include "swatsim/arch/pe_model.hpp"
#include "swatsim/traces/tools.hpp"

int sc_main(int, char*[]) { return 0; }

using namespace swatsim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size <= 16) return 0;  // 16 bytes of geometry and settings, then at least one byte of mask
  auto b = [&](int i, uint32_t lo, uint32_t hi) { return lo + data[i] % (hi - lo + 1); };
  traces::LayerInfo l;
  l.name = "x";
  l.N = b(0, 1, 2);
  l.groups = b(1, 1, 2);
  l.C = b(2, 1, 24) * l.groups;
  l.K = b(3, 1, 24) * l.groups;
  l.H = b(4, 1, 12);
  l.W = b(5, 1, 12);
  l.R = b(6, 1, 5);
  l.S = b(7, 1, 5);
  l.stride = b(8, 1, 3);
  l.padding = b(9, 0, 3);
  l.Ho = l.expected_ho();
  l.Wo = l.expected_wo();
  if (!traces::check_layer(l).empty()) return 0;
  arch::LayerShape s;
  s.N = l.N; s.C = l.C; s.H = l.H; s.W = l.W; s.K = l.K; s.R = l.R; s.S = l.S;
  s.stride = l.stride; s.padding = l.padding; s.groups = l.groups; s.Ho = l.Ho; s.Wo = l.Wo;
  // Masks from the rest of the input, repeated.
  auto mask = [&](std::array<uint32_t, 4> dims, std::vector<uint64_t>& words, uint64_t id) {
    arch::BitTensorView v;
    v.dims = dims;
    words.assign((v.numel() + 63) / 64 + 1, 0);
    for (uint64_t i = 0; i < v.numel(); ++i)
      if (data[16 + (i / 8) % (size - 16)] >> (i % 8) & 1) words[i >> 6] |= uint64_t(1) << (i & 63);
    v.words = words.data();
    v.id = id;
    return v;
  };
  std::vector<uint64_t> wa, ww, wg;
  const auto act = mask({s.N, s.C, s.H, s.W}, wa, 1), wgt = mask({s.K, s.C / s.groups, s.R, s.S}, ww, 2),
             grad = mask({s.N, s.K, s.Ho, s.Wo}, wg, 3);
  arch::AcceleratorConfig configs[4];
  configs[0].pe_type = "tensordash";
  configs[1].pe_type = "two-sided";
  configs[2].pe_type = "dense-systolic";
  configs[3].pe_type = "tensordash";
  for (auto& c : configs) c.pe = arch::ParamSet(arch::find_pe_type(c.pe_type)->params);
  configs[3].pe.set("lookahead", int64_t(b(10, 1, 6)));
  configs[3].pe.set("lookaside", int64_t(b(11, 0, 7)));
  configs[3].pe.set("rows", int64_t(b(12, 1, 8)));
  configs[2].pe.set("dataflow", std::string(data[13] % 3 == 0 ? "os" : data[13] % 3 == 1 ? "ws" : "is"));
  for (const auto& c : configs) {
    auto pe = arch::make_pe(c);
    pe->set_tiles(b(14, 1, 16));
    if (data[15] & 1) pe->set_chunk_budget(64 + data[15] * 8, 2);
    for (arch::Pass p : {arch::Pass::Forward, arch::Pass::InputGrad, arch::Pass::WeightGrad}) {
      arch::PassInput in;
      in.layer = s;
      in.pass = p;
      in.sample = s.N - 1;
      in.a = p == arch::Pass::InputGrad ? grad : act;
      in.b = p == arch::Pass::WeightGrad ? grad : wgt;
      for (bool exploit : {true, false}) {
        const arch::PassPlan plan = pe->plan(in, exploit);
        (void)plan.serial_cycles();
        arch::FormatChoice f;
        for (int k = 0; k < 3; ++k) f.format[k] = arch::StorageFormat((data[10 + k] >> 4) % 4);
        arch::PassOperands ops(in, f);
        for (size_t u = 0; u < plan.units.size() && u < 64; ++u)
          for (int op = 0; op < 2; ++op) (void)ops.block(op, plan.units[u].block);
      }
    }
  }
  return 0;
}
