#include "dense_systolic.hpp"
#include "../common/arith.hpp"

#include <algorithm>

namespace swatsim::arch::dense_systolic {

namespace {
}  // namespace

Gemm lower(const LayerShape& l, Pass p) {
  const uint64_t Cg = l.Cg(), Kg = l.Kg(), RS = uint64_t(l.R) * l.S;
  switch (p) {
    case Pass::Forward:     // im2col: output windows x filters, reduction over Cg*R*S
      return {uint64_t(l.Ho) * l.Wo, Kg, Cg * RS};
    case Pass::InputGrad:   // stride-1 conv of the dilated, padded dY with rotated weights
      return {uint64_t(l.H) * l.W, Cg, Kg * RS};
    case Pass::WeightGrad:  // dW[k, (c,r,s)] = sum over output positions of dY x im2col(A)
      return {Cg * RS, Kg, uint64_t(l.Ho) * l.Wo};
  }
  return {};
}

Folding fold(const Gemm& g, uint32_t R, uint32_t C, Dataflow df) {
  if (g.M == 0 || g.N == 0 || g.K == 0) return Folding{};  // no MACs: no folds
  uint64_t Sr = 0, Sc = 0, T = 0;
  switch (df) {
    case Dataflow::OS: Sr = g.M; Sc = g.N; T = g.K; break;
    case Dataflow::WS: Sr = g.K; Sc = g.N; T = g.M; break;
    case Dataflow::IS: Sr = g.K; Sc = g.M; T = g.N; break;
  }
  Folding f;
  f.folds = ceil_div(Sr, R) * ceil_div(Sc, C);
  f.fold_cycles = df == Dataflow::OS ? R + C + T - 2 : 2 * uint64_t(R) + C + T - 2;
  return f;
}

uint64_t gemm_cycles(const Gemm& g, uint32_t R, uint32_t C, Dataflow df) {
  const Folding f = fold(g, R, C, df);
  return f.folds == 0 ? 0 : f.folds * f.fold_cycles - 1;  // an empty GEMM has no folds
}

DenseSystolic::DenseSystolic(const ParamSet& p)
    : rows_(uint32_t(p.get_int("rows"))), cols_(uint32_t(p.get_int("cols"))),
      df_(p.get_choice("dataflow") == "ws" ? Dataflow::WS
          : p.get_choice("dataflow") == "is" ? Dataflow::IS
                                             : Dataflow::OS),
      zero_gating_(p.get_choice("zero_gating") == "on") {}

std::vector<ParamSpec> DenseSystolic::params() {
  return {
      ParamSpec::integer("rows", "rows of the systolic array (R)", 32, 1, 4096),
      ParamSpec::integer("cols", "columns of the systolic array (C)", 32, 1, 4096),
      ParamSpec::choice("dataflow", "os (output stationary), ws (weight stationary), is (input stationary)",
                        "os", {"os", "ws", "is"}),
      ParamSpec::choice("zero_gating", "on: a MAC with a zero operand is gated (its slot clocked, nothing multiplied): "
                        "energy only, cycles unchanged (docs/energy.md)", "off", {"off", "on"}),
  };
}

const std::string& DenseSystolic::type() const {
  static const std::string t = "dense-systolic";
  return t;
}

GemmBlock DenseSystolic::fold_block(const PassInput& in, const Gemm& g, uint32_t group, uint64_t fold) const {
  // Folds are enumerated row fold outer: fold = row_fold * column_folds + column_fold.
  const uint64_t Sr = df_ == Dataflow::OS ? g.M : g.K, Sc = df_ == Dataflow::IS ? g.M : g.N;
  const uint64_t col_folds = ceil_div(Sc, cols_), rf = fold / col_folds, cf = fold % col_folds;
  const uint64_t r0 = rf * rows_, r1 = std::min(Sr, r0 + rows_), c0 = cf * cols_, c1 = std::min(Sc, c0 + cols_);
  uint64_t m0 = 0, m1 = g.M, n0 = 0, n1 = g.N;
  GemmBlock b;
  b.group = group;
  switch (df_) {
    case Dataflow::OS: m0 = r0; m1 = r1; n0 = c0; n1 = c1; break;
    case Dataflow::WS: n0 = c0; n1 = c1; b.k_part = uint32_t(rf); b.k_parts = uint32_t(ceil_div(Sr, rows_)); break;
    case Dataflow::IS: m0 = c0; m1 = c1; b.k_part = uint32_t(rf); b.k_parts = uint32_t(ceil_div(Sr, rows_)); break;
  }
  // Partial sums stay in the array's accumulators until the last reduction slice.
  b.output_elements = b.k_part + 1 == b.k_parts ? (m1 - m0) * (n1 - n0) : 0;
  if (in.pass == Pass::WeightGrad) {  // M counts (channel, kernel position): a row range reads whole channels
    const uint64_t rs = uint64_t(in.layer.R) * in.layer.S;
    m0 /= rs;
    m1 = ceil_div(m1, rs);
  }
  b.m_begin = uint32_t(m0);
  b.m_end = uint32_t(m1);
  b.n_begin = uint32_t(n0);
  b.n_end = uint32_t(n1);
  return b;
}

PassPlan DenseSystolic::plan(const PassInput& in, bool) const {
  // One work unit per fold; the last fold of each GEMM is one cycle shorter so that the folds of a
  // GEMM sum to SCALE-Sim's F*(...) - 1. Zeros are not skipped: every MAC is effectual work done.
  PassPlan plan;
  plan.macs_dense = in.layer.macs_per_sample();
  const Gemm g = lower(in.layer, in.pass);
  const Folding f = fold(g, rows_, cols_, df_);
  // A zero-sized dimension (also Ho or Wo = 0 for the input gradient, whose GEMM does not name
  // them): no MACs, no units.
  if (f.folds == 0 || plan.macs_dense == 0) return plan;
  plan.segments.push_back(Segment::constant(f.fold_cycles));
  plan.segments.push_back(Segment::constant(f.fold_cycles - 1));
  const uint64_t macs_per_fold = g.M * g.N * g.K / f.folds;
  for (uint32_t grp = 0; grp < in.layer.groups; ++grp)
    for (uint64_t i = 0; i < f.folds; ++i) {
      const uint64_t extra = i + 1 == f.folds ? g.M * g.N * g.K - macs_per_fold * f.folds : 0;
      plan.units.push_back(WorkUnit{i + 1 == f.folds ? 1u : 0u, macs_per_fold + extra, 0, fold_block(in, g, grp, i)});
    }
  return plan;
}

SWATSIM_REGISTER_PE(DenseSystolic, "dense-systolic",
                    "dense R x C systolic array, SCALE-Sim v2 compute cycles (ISPASS 2020)");

}  // namespace swatsim::arch::dense_systolic
