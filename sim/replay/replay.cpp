#include "swatsim/sim/replay.hpp"

#include <systemc>

#include <algorithm>
#include <cassert>
#include <memory>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"

namespace swatsim::sim {

namespace tr = swatsim::traces;

std::vector<IndexRange> parse_index_list(const std::string& list, const std::string& what) {
  std::vector<IndexRange> out;
  size_t pos = 0;
  auto number = [&](const std::string& s) -> uint32_t {  // any 32-bit iteration or layer number
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 10 ||
        std::stoull(s) > 0xffffffffull)
      throw InputError(what, fmt::format("expected a list like 0,2,5-7 of numbers below 2^32, got '{}'", list));
    return uint32_t(std::stoull(s));
  };
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    const size_t dash = item.find('-');
    if (dash == std::string::npos) {
      const uint32_t a = number(item);
      out.push_back({a, a});
    } else {
      const uint32_t a = number(item.substr(0, dash)), b = number(item.substr(dash + 1));
      if (b < a) throw InputError(what, fmt::format("empty range '{}'", item));
      out.push_back({a, b});
    }
    pos = comma + 1;
  }
  return out;
}

void parse_layer_list(const std::string& list, std::vector<IndexRange>& indices, std::vector<std::string>& names) {
  size_t pos = 0;
  std::string numeric;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    if (!item.empty() && item.find_first_not_of("0123456789-") != std::string::npos)
      names.push_back(item);
    else
      numeric += (numeric.empty() ? "" : ",") + item;
    pos = comma + 1;
  }
  if (!numeric.empty() || names.empty()) {
    const auto v = parse_index_list(numeric, "--layers");
    indices.insert(indices.end(), v.begin(), v.end());
  }
}

void accumulate(arch::JobResult& into, const arch::JobResult& r) {
  into.cycles += r.cycles;
  into.units += r.units;
  into.busy_cycles += r.busy_cycles;
  into.memory_wait_cycles += r.memory_wait_cycles;
  into.tile_wait_cycles += r.tile_wait_cycles;
  into.macs_dense += r.macs_dense;
  into.macs_mapped += r.macs_mapped;
  into.macs_effectual += r.macs_effectual;
  into.macs_issued += r.macs_issued;
  into.macs_nonzero += r.macs_nonzero;
  into.row_idle_cycles += r.row_idle_cycles;
  into.peak_macs += r.peak_macs;
  if (into.mapping.empty()) into.mapping = r.mapping;  // a row is one job: its mapping
  if (into.memory.size() < r.memory.size()) into.memory.resize(r.memory.size(), 0.0);
  for (size_t i = 0; i < r.memory.size(); ++i) into.memory[i] += r.memory[i];
}

namespace {

arch::LayerShape shape_of(const tr::LayerInfo& l) {
  arch::LayerShape s;
  s.N = l.N; s.C = l.C; s.H = l.H; s.W = l.W;
  s.K = l.K; s.R = l.R; s.S = l.S;
  s.stride = l.stride; s.padding = l.padding; s.groups = l.groups;
  s.Ho = l.Ho; s.Wo = l.Wo;
  return s;
}

arch::BitTensorView view_of(const tr::Mask& m, uint64_t id) {
  arch::BitTensorView v;
  v.words = m.words().data();
  v.dims = m.shape().dims;
  v.id = id;
  return v;
}

/// The tensors the selected passes need of one layer (its saved activation is its input activation
/// when the trace does not store one).
std::vector<tr::TensorKind> needed_tensors(const tr::LayerInfo& info, uint32_t layer, const std::vector<arch::Pass>& passes) {
  bool act = false, wgt = false, saved = false, grad = false;
  for (arch::Pass p : passes) {
    if (p == arch::Pass::Forward) act = wgt = true;
    if (p == arch::Pass::InputGrad && layer != 0) grad = wgt = true;
    if (p == arch::Pass::WeightGrad) saved = grad = true;
  }
  const bool saved_is_act = !info.has(tr::TensorKind::SavedAct);
  if (saved && saved_is_act) act = true;
  std::vector<tr::TensorKind> out;
  if (act) out.push_back(tr::TensorKind::InputAct);
  if (wgt) out.push_back(tr::TensorKind::Weight);
  if (saved && !saved_is_act) out.push_back(tr::TensorKind::SavedAct);
  if (grad) out.push_back(tr::TensorKind::OutputGrad);
  return out;
}

/// Reads the trace and feeds both accelerators, one job (a pass over the batch) at a time. It is not
/// a SystemC process: it runs in sc_main, hands a job over with nb_write and lets the simulation run
/// (sc_start) until both accelerators have answered and wait for the next. So the trace reader's
/// errors are thrown on the main stack, outside SystemC's coroutines (AddressSanitizer reports a
/// false stack-buffer-overflow for an exception thrown on a coroutine's stack).
class Driver {
public:
  Driver(const ReplayOptions& o, tr::TraceReader& reader, arch::Accelerator& acc, arch::Accelerator& base,
         arch::Accelerator* ref, const ProgressFn& progress)
      : o_(o), reader_(reader), acc_(acc), base_(base), ref_(ref), progress_(progress) {}

  ReplayResult result;
  std::vector<uint32_t> iterations, layers;

  void run() {
    body();
    // Let both controllers end.
    acc_.jobs.nb_write(nullptr);
    base_.jobs.nb_write(nullptr);
    if (ref_) ref_->jobs.nb_write(nullptr);
    sc_core::sc_start();
  }

private:
  const tr::Mask& load(uint32_t it, uint16_t layer, tr::TensorKind kind, tr::Mask& into) {
    const tr::TensorRecord* rec = reader_.find(it, layer, kind);
    if (!rec)
      throw InputError(tr::locate(reader_.path(), reader_.header(), it, layer, kind),
                       "not stored, but a selected pass needs it");
    reader_.read_into(*rec, into, nullptr);
    return into;
  }

  /// Runs one job on both accelerators to completion.
  void simulate(const arch::PassInput& in, ReplayRow& row) {
    const bool handed = acc_.jobs.nb_write(&in) && base_.jobs.nb_write(&in) && (!ref_ || ref_->jobs.nb_write(&in));
    assert(handed);  // the controllers take every job before they answer
    (void)handed;
    sc_core::sc_start();  // until both have answered and wait for the next job
    const arch::JobResult* r = nullptr;
    if (!acc_.results.nb_read(r)) throw std::logic_error("the accelerator did not finish its job");
    accumulate(row.result, *r);
    if (!base_.results.nb_read(r)) throw std::logic_error("the baseline did not finish its job");
    accumulate(row.baseline, *r);
    if (ref_) {
      if (!ref_->results.nb_read(r)) throw std::logic_error("the reference did not finish its job");
      accumulate(row.reference, *r);
    }
  }

  void body() {
    const auto& hdr = reader_.header();
    total_ = 0;
    for (uint32_t l : layers) {
      for (arch::Pass p : o_.passes)
        if (!(p == arch::Pass::InputGrad && l == 0)) total_ += hdr.layers[l].N;
    }
    total_ *= iterations.size();
    result.jobs = total_;
    for (uint32_t it : iterations)
      for (uint32_t li : layers) replay_layer(it, li);
  }

  /// Loads the tensors one layer of one iteration needs and replays its passes, sample by sample.
  void replay_layer(uint32_t it, uint32_t li) {
    const tr::LayerInfo& info = reader_.header().layers[li];
    const bool saved_is_act = !info.has(tr::TensorKind::SavedAct);
    for (tr::TensorKind k : needed_tensors(info, li, o_.passes)) {
      tr::Mask& into = k == tr::TensorKind::InputAct ? act_
                       : k == tr::TensorKind::Weight ? wgt_
                       : k == tr::TensorKind::SavedAct ? saved_
                                                        : grad_;
      load(it, uint16_t(li), k, into);
    }
    // Every tensor of every layer gets its own identity (PE models reuse work by it; the memory
    // model recognises blocks by it).
    const uint64_t wid = next_id_++, act_id = next_id_++, grad_id = next_id_++, saved_id = next_id_++;
    for (arch::Pass p : o_.passes) {
      if (p == arch::Pass::InputGrad && li == 0) continue;  // the network's first layer
      ReplayRow row;
      row.iteration = it;
      row.layer = li;
      row.layer_name = info.name;
      row.pass = p;
      row.samples = info.N;
      auto operand = [&](arch::TensorRole r) {
        switch (r) {
          case arch::TensorRole::Weight: return view_of(wgt_, wid);
          case arch::TensorRole::Gradient: return view_of(grad_, grad_id);
          case arch::TensorRole::Activation: break;
        }
        // The weight gradient reads the activation saved for it (the input itself when the trace
        // stores no separate saved activation).
        if (p == arch::Pass::WeightGrad && !saved_is_act) return view_of(saved_, saved_id);
        return view_of(act_, act_id);
      };
      arch::PassInput in;
      in.layer = shape_of(info);
      in.pass = p;
      in.a = operand(arch::operand_role(p, 0));
      in.b = operand(arch::operand_role(p, 1));
      // One job per pass: the batch is one GEMM (docs/memory.md, Dataflow).
      in.sample = 0;
      in.samples = info.N;
      if (info.N > 0) simulate(in, row);
      done_ += info.N;
      if (progress_)
        progress_(done_, total_, fmt::format("iteration {}, layer {} ({}), {}", row.iteration, row.layer, row.layer_name,
                                             arch::to_string(p)));
      result.rows.push_back(std::move(row));
    }
  }

  const ReplayOptions& o_;
  tr::TraceReader& reader_;
  arch::Accelerator& acc_;
  arch::Accelerator& base_;
  arch::Accelerator* ref_;
  const ProgressFn& progress_;
  tr::Mask act_, wgt_, saved_, grad_;
  uint64_t next_id_ = 1, total_ = 0, done_ = 0;
};

/// Checks that every tensor the replay will read is stored, before the simulation starts. Under
/// AddressSanitizer it also reads and checks each one: any exception after SystemC has switched
/// coroutine stacks makes ASan report a false stack-buffer-overflow, so a damaged blob must be found
/// here. Other builds find it when the replay reads it (reading everything twice costs ~9%).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kReadAheadForSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kReadAheadForSanitizer = true;
#else
constexpr bool kReadAheadForSanitizer = false;
#endif
#else
constexpr bool kReadAheadForSanitizer = false;
#endif
void check_inputs(tr::TraceReader& reader, const std::vector<uint32_t>& iterations, const std::vector<uint32_t>& layers,
                  const std::vector<arch::Pass>& passes) {
  tr::Mask scratch;
  for (uint32_t it : iterations)
    for (uint32_t li : layers)
      for (tr::TensorKind k : needed_tensors(reader.header().layers[li], li, passes)) {
        const tr::TensorRecord* rec = reader.find(it, uint16_t(li), k);
        if (!rec)
          throw InputError(tr::locate(reader.path(), reader.header(), it, li, k), "not stored, but a selected pass needs it");
        if (kReadAheadForSanitizer) reader.read_into(*rec, scratch, nullptr);
      }
}

}  // namespace

namespace {

/// "0-3,7": a sorted list of numbers written compactly for error messages.
std::string compact(const std::vector<uint32_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + (j == i ? std::to_string(v[i]) : fmt::format("{}-{}", v[i], v[j]));
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

/// The members of `available` (sorted) that some range selects. Every range must select one:
/// `missing(range)` gives the error message for one that selects none.
template <class Missing>
std::vector<uint32_t> select(const std::vector<IndexRange>& ranges, const std::vector<uint32_t>& available,
                             const std::string& what, const Missing& missing) {
  for (const IndexRange& r : ranges) {
    const auto it = std::lower_bound(available.begin(), available.end(), r.first);
    if (it == available.end() || *it > r.last) throw InputError(what, missing(r));
  }
  std::vector<uint32_t> out;
  for (uint32_t a : available)
    for (const IndexRange& r : ranges)
      if (a >= r.first && a <= r.last) {
        out.push_back(a);
        break;
      }
  return out;
}

}  // namespace

TraceSelection select_in_trace(const tr::TraceReader& reader, const std::vector<IndexRange>& iteration_ranges,
                               const std::vector<IndexRange>& layer_ranges, const std::vector<std::string>& layer_names) {
  const auto& hdr = reader.header();
  const std::string& trace = reader.path();
  std::vector<uint32_t> recorded = reader.iterations();
  std::sort(recorded.begin(), recorded.end());
  TraceSelection sel;
  sel.iterations =
      iteration_ranges.empty() ? recorded
                               : select(iteration_ranges, recorded, "--iterations", [&](const IndexRange& r) {
                                   return r.first == r.last
                                              ? fmt::format("iteration {} is not recorded in {} (recorded: {})", r.first,
                                                            trace, compact(recorded))
                                              : fmt::format("range {}-{} selects no recorded iteration of {} (recorded: {})",
                                                            r.first, r.last, trace, compact(recorded));
                                 });
  std::vector<uint32_t> all_layers(hdr.layers.size());
  for (uint32_t i = 0; i < all_layers.size(); ++i) all_layers[i] = i;
  std::vector<uint32_t> layers = select(layer_ranges, all_layers, "--layers", [&](const IndexRange& r) {
    return r.first == r.last
               ? fmt::format("layer {} does not exist ({} has {} layers)", r.first, trace, hdr.layers.size())
               : fmt::format("range {}-{} selects no layer ({} has {} layers)", r.first, r.last, trace,
                             hdr.layers.size());
  });
  for (const auto& name : layer_names) {
    uint32_t found = uint32_t(hdr.layers.size());
    for (uint32_t i = 0; i < hdr.layers.size(); ++i)
      if (hdr.layers[i].name == name) found = i;
    if (found == hdr.layers.size()) throw InputError("--layers", fmt::format("no layer named '{}' in {}", name, trace));
    layers.push_back(found);
  }
  std::sort(layers.begin(), layers.end());
  layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  sel.layers = layers.empty() ? all_layers : layers;
  return sel;
}

ReplayResult replay(const ReplayOptions& o, const ProgressFn& progress) {
  tr::TraceReader reader(o.trace);
  const TraceSelection sel = select_in_trace(reader, o.iterations, o.layers, o.layer_names);
  const std::vector<uint32_t>& iterations = sel.iterations;
  const std::vector<uint32_t>& layers = sel.layers;
  // Checked before the simulation: an error thrown after SystemC has switched coroutine stacks
  // makes AddressSanitizer report a false stack-buffer-overflow.
  bool work = false;
  for (uint32_t layer : layers)
    for (arch::Pass pass : o.passes) work |= !(pass == arch::Pass::InputGrad && layer == 0);
  if (iterations.empty()) throw InputError(o.trace, "records no iterations: nothing to replay");
  if (!work)
    throw InputError(o.trace, "the selection (--iterations, --layers, --passes) has no work (input-grad is not "
                              "computed for the network's first layer)");

  arch::Accelerator acc("accelerator", o.config, true);
  const bool named = o.baseline.has_value();
  // A named baseline is another accelerator, run as built (sparsity exploited unless
  // baseline_sparsity is off); the default baseline is the same hardware treating every operand as dense.
  arch::Accelerator base("baseline", named ? *o.baseline : o.config, named && o.baseline_sparsity);
  // The reference is dense hardware: every operand dense whatever its PE type could skip.
  std::unique_ptr<arch::Accelerator> ref;
  if (o.reference) ref = std::make_unique<arch::Accelerator>("reference", *o.reference, false);
  for (arch::Accelerator* a : {&acc, &base, ref.get()})
    if (a) a->set_map_only(o.map_only);
  check_inputs(reader, iterations, layers, o.passes);
  Driver driver(o, reader, acc, base, ref.get(), progress);
  driver.iterations = iterations;
  driver.layers = layers;
  driver.run();
  return std::move(driver.result);
}

}  // namespace swatsim::sim
