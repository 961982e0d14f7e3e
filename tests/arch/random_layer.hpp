#pragma once
// Random small layers and operands for the randomized kernel-vs-reference tests.
#include <memory>
#include <ostream>
#include <random>

#include "reference.hpp"

namespace testutil {

struct Case {
  swatsim::arch::PassInput in;
  std::unique_ptr<ref::OwnedMask> a, b;
};
/// Readable test output: the pass and the geometry.
inline void PrintTo(const Case& c, std::ostream* os) {
  const auto& l = c.in.layer;
  *os << swatsim::arch::to_string(c.in.pass) << " N" << l.N << " C" << l.C << " " << l.H << "x" << l.W << " K" << l.K
      << " " << l.R << "x" << l.S << " s" << l.stride << " p" << l.padding << " g" << l.groups << " sample " << c.in.sample;
}

inline swatsim::arch::LayerShape random_layer(std::mt19937_64& rng, bool allow_groups = true) {
  auto u = [&](int lo, int hi) { return int(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  swatsim::arch::LayerShape l;
  for (;;) {
    l.N = uint32_t(u(1, 2));
    l.groups = allow_groups && u(0, 3) == 0 ? 2u : 1u;
    l.C = uint32_t(u(1, 12)) * l.groups;
    l.K = uint32_t(u(1, 9)) * l.groups;
    l.H = uint32_t(u(1, 7));
    l.W = uint32_t(u(1, 7));
    l.R = uint32_t(u(1, 3));
    l.S = uint32_t(u(1, 3));
    l.stride = uint32_t(u(1, 2));
    l.padding = uint32_t(u(0, 2));
    const int64_t hh = int64_t(l.H) + 2 * l.padding - l.R, ww = int64_t(l.W) + 2 * l.padding - l.S;
    if (hh < 0 || ww < 0) continue;
    l.Ho = uint32_t(hh / l.stride + 1);
    l.Wo = uint32_t(ww / l.stride + 1);
    return l;
  }
}

inline Case make_case(std::mt19937_64& rng, const swatsim::arch::LayerShape& l, swatsim::arch::Pass pass,
                      double da, double db) {
  using swatsim::arch::Pass;
  static uint64_t next_id = 1;  // weights get a fresh identity per case (the PE may cache by id)
  Case c;
  c.in.layer = l;
  c.in.pass = pass;
  c.in.sample = uint32_t(std::uniform_int_distribution<uint32_t>(0, l.N - 1)(rng));
  const std::array<uint32_t, 4> act{l.N, l.C, l.H, l.W}, wgt{l.K, l.C / l.groups, l.R, l.S},
      grad{l.N, l.K, l.Ho, l.Wo};
  switch (pass) {
    case Pass::Forward:
      c.a = std::make_unique<ref::OwnedMask>(act, da, rng);
      c.b = std::make_unique<ref::OwnedMask>(wgt, db, rng, next_id++);
      break;
    case Pass::InputGrad:
      c.a = std::make_unique<ref::OwnedMask>(grad, da, rng);
      c.b = std::make_unique<ref::OwnedMask>(wgt, db, rng, next_id++);
      break;
    case Pass::WeightGrad:
      c.a = std::make_unique<ref::OwnedMask>(act, da, rng);
      c.b = std::make_unique<ref::OwnedMask>(grad, db, rng);
      break;
  }
  c.in.a = c.a->view;
  c.in.b = c.b->view;
  return c;
}

}  // namespace testutil
