#include "report/flops.hpp"

#include <fmt/format.h>

#include <cmath>
#include <ostream>

namespace swatsim::frontend {

double LayerCost::forward_macs() const {
  return double(K) * double(Ho) * double(Wo) * double(C / groups) * double(R) * double(S);
}

namespace {
double bitmap_bytes(double numel, double density) { return std::ceil(numel / 8.0) + 4.0 * std::round(density * numel); }
}  // namespace

nlohmann::json flop_report(const std::vector<LayerCost>& layers, const ReportMeta& meta) {
  using nlohmann::json;
  json jl = json::array();
  double d_fwd = 0, d_bi = 0, d_bw = 0, s_fwd = 0, s_bi = 0, s_bw = 0;
  double d_wmem = 0, s_wmem = 0, d_amem = 0, s_amem = 0;
  for (const auto& l : layers) {
    const double f = 2.0 * l.forward_macs();
    const double bi = l.first ? 0.0 : f;
    const double lf = f * l.weight_density, lbi = bi * l.weight_density, lbw = f * l.act_density;
    const double wn = double(l.weight_numel()), an = double(l.act_numel()) * double(meta.batch);
    const double dw = 4.0 * wn, sw = l.sparse_weight ? bitmap_bytes(wn, l.weight_density) : dw;
    const double da = 4.0 * an, sa = l.sparse_act ? bitmap_bytes(an, l.act_density) : da;
    d_fwd += f; d_bi += bi; d_bw += f;
    s_fwd += lf; s_bi += lbi; s_bw += lbw;
    d_wmem += dw; s_wmem += sw; d_amem += da; s_amem += sa;
    jl.push_back({{"name", l.name}, {"kind", l.linear ? "linear" : "conv"},
                  {"shape", {{"C", l.C}, {"H", l.H}, {"W", l.W}, {"K", l.K}, {"R", l.R}, {"S", l.S},
                             {"stride", l.stride}, {"padding", l.padding}, {"groups", l.groups},
                             {"Ho", l.Ho}, {"Wo", l.Wo}}},
                  {"weight_density", l.weight_density}, {"act_density", l.act_density},
                  {"dense_flops", {{"forward", f}, {"backward_input", bi}, {"backward_weight", f}}},
                  {"swat_flops", {{"forward", lf}, {"backward_input", lbi}, {"backward_weight", lbw}}},
                  {"weight_bytes", {{"dense", dw}, {"swat", sw}}},
                  {"saved_act_bytes", {{"dense", da}, {"swat", sa}}}});
  }
  const double d_train = d_fwd + d_bi + d_bw, s_train = s_fwd + s_bi + s_bw;
  auto red = [](double d, double s) { return d > 0 ? 1.0 - s / d : 0.0; };
  double wn_total = 0, wnz_total = 0, an_total = 0, anz_total = 0;
  for (const auto& l : layers) {
    wn_total += double(l.weight_numel());
    wnz_total += double(l.weight_numel()) * l.weight_density;
    an_total += double(l.act_numel());
    anz_total += double(l.act_numel()) * l.act_density;
  }
  json totals = {
      {"dense_flops", {{"forward", d_fwd}, {"backward_input", d_bi}, {"backward_weight", d_bw}, {"training", d_train}}},
      {"swat_flops", {{"forward", s_fwd}, {"backward_input", s_bi}, {"backward_weight", s_bw}, {"training", s_train}}},
      {"training_flop_reduction", red(d_train, s_train)},
      {"inference_flop_reduction", red(d_fwd, s_fwd)},
      {"backward_flop_reduction", red(d_bi + d_bw, s_bi + s_bw)},
      {"weight_sparsity", wn_total > 0 ? 1.0 - wnz_total / wn_total : 0.0},
      {"activation_sparsity", an_total > 0 ? 1.0 - anz_total / an_total : 0.0},
      {"weight_bytes", {{"dense", d_wmem}, {"swat", s_wmem}, {"reduction", red(d_wmem, s_wmem)}}},
      {"saved_act_bytes", {{"dense", d_amem}, {"swat", s_amem}, {"reduction", red(d_amem, s_amem)}}},
  };
  json jm = {{"model", meta.model}, {"dataset", meta.dataset}, {"distribution", meta.distribution},
             {"structure", meta.structure}, {"sparsity", meta.sparsity},
             {"act_sparsity", meta.act_sparsity}, {"input_size", meta.input_size},
             {"batch_for_memory", meta.batch}, {"densities_from", meta.source},
             {"flops_per", "image"},
             {"convention", "FLOPs = 2 x MACs of conv/FC GEMMs only; memory: fp32 dense vs bitmap + fp32 non-zeros"}};
  return {{"meta", jm}, {"layers", jl}, {"totals", totals}};
}

void print_report(const nlohmann::json& r, std::ostream& out) {
  const auto& t = r["totals"];
  const auto& m = r["meta"];
  out << fmt::format("{:<28} {:>5} {:>7} {:>7} {:>10} {:>10} {:>10}\n", "layer", "kind", "w.dens", "a.dens",
                     "fwd GFLOP", "swat fwd", "swat bwd");
  for (const auto& l : r["layers"]) {
    out << fmt::format("{:<28} {:>5} {:>7.3f} {:>7.3f} {:>10.4f} {:>10.4f} {:>10.4f}\n",
                       l["name"].get<std::string>(), l["kind"].get<std::string>(),
                       l["weight_density"].get<double>(), l["act_density"].get<double>(),
                       l["dense_flops"]["forward"].get<double>() / 1e9, l["swat_flops"]["forward"].get<double>() / 1e9,
                       (l["swat_flops"]["backward_input"].get<double>() + l["swat_flops"]["backward_weight"].get<double>()) / 1e9);
  }
  out << fmt::format("\n{} {} {} sparsity {:.2f} (densities from {}), FLOPs per image:\n",
                     m["model"].get<std::string>(), m["distribution"].get<std::string>(),
                     m["structure"].get<std::string>(), m["sparsity"].get<double>(), m["densities_from"].get<std::string>());
  out << fmt::format("  forward   dense {:9.3f} GFLOP  swat {:9.3f} GFLOP\n", t["dense_flops"]["forward"].get<double>() / 1e9,
                     t["swat_flops"]["forward"].get<double>() / 1e9);
  out << fmt::format("  training  dense {:9.3f} GFLOP  swat {:9.3f} GFLOP\n", t["dense_flops"]["training"].get<double>() / 1e9,
                     t["swat_flops"]["training"].get<double>() / 1e9);
  out << fmt::format("  inference FLOP reduction {:6.2f}%   training FLOP reduction {:6.2f}%\n",
                     100 * t["inference_flop_reduction"].get<double>(), 100 * t["training_flop_reduction"].get<double>());
  out << fmt::format("  weight sparsity {:6.2f}%   activation sparsity {:6.2f}%\n",
                     100 * t["weight_sparsity"].get<double>(), 100 * t["activation_sparsity"].get<double>());
  out << fmt::format("  memory: weights {:.1f} -> {:.1f} MB ({:.1f}% less), saved activations {:.1f} -> {:.1f} MB ({:.1f}% less, batch {})\n",
                     t["weight_bytes"]["dense"].get<double>() / 1e6, t["weight_bytes"]["swat"].get<double>() / 1e6,
                     100 * t["weight_bytes"]["reduction"].get<double>(), t["saved_act_bytes"]["dense"].get<double>() / 1e6,
                     t["saved_act_bytes"]["swat"].get<double>() / 1e6, 100 * t["saved_act_bytes"]["reduction"].get<double>(),
                     m["batch_for_memory"].get<int64_t>());
  if (m["model"] == "resnet50-imagenet") {
    out << "  published (Raihan & Aamodt 2020, ResNet-50 ImageNet): training / inference FLOP reduction\n"
           "    SWAT-U 80/80 76.1% / 77.7%   SWAT-U 90/90 85.6% / 87.4%\n"
           "    SWAT-ERK 80/52 60.0% / 58.9%   SWAT-ERK 90/64 79.0% / 77.8%\n"
           "    SWAT-M 80/49 45.9% / 45.0%   SWAT-M 90/57 65.4% / 64.8%\n";
  }
}

}  // namespace swatsim::frontend
