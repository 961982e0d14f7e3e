// swat-train end to end: bad input, trace recording round trip, exact resume, flops-only numbers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdio>
#include <jpeglib.h>
#include <png.h>

#include "data/data.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"

namespace fs = std::filesystem;
namespace tr = swatsim::traces;

namespace {

fs::path tmpdir(const std::string& name) {
  fs::path p = fs::path(SWATSIM_TEST_TMP) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

struct Result {
  int code;
  std::string err;
};

Result run(const std::string& args, const fs::path& dir) {
  const auto err = dir / "stderr.txt";
  const std::string cmd = std::string(SWAT_TRAIN_BIN) + " " + args + " --threads 1 > " + (dir / "stdout.txt").string() +
                          " 2> " + err.string();
  const int st = std::system(cmd.c_str());
  std::ifstream f(err);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, ss.str()};
}

const std::string kQuick = "--model small-cnn --dataset synthetic --batch 8 --no-progress --quiet --no-eval ";

std::vector<nlohmann::json> read_log(const fs::path& p) {
  std::vector<nlohmann::json> v;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

}  // namespace

struct BadCase {
  const char* name;
  std::string args, needle;
};
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name << ": swat-train " << c.args; }
class SwatTrainBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(SwatTrainBadInput, ExitsTwoWithOneLine) {
  const auto& c = GetParam();
  auto d = tmpdir(std::string("bad_") + c.name);
  fs::create_directories(d / "imgs/train/cat");
  { std::ofstream(d / "imgs/train/cat/broken.png") << "\x89PNG\r\n\x1a\n this is not a png"; }
  std::string args = c.args;
  if (auto at = args.find("@IMGS@"); at != std::string::npos) args.replace(at, 6, (d / "imgs").string());
  if (auto at = args.find("@DIR@"); at != std::string::npos) args.replace(at, 5, d.string());
  auto r = run(args + " --iterations 1 --no-progress", d);
  EXPECT_EQ(r.code, 2) << args << ": " << r.err;
  EXPECT_NE(r.err.find(c.needle), std::string::npos) << args << ": " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SwatTrainBadInput,
    ::testing::Values(BadCase{"model", "--model resnet19", "unknown model"},
                      BadCase{"dataset", "--dataset mnist2", "unknown dataset"},
                      BadCase{"option", "--frobnicate 3", "frobnicate"},
                      BadCase{"sparsity_one", "--sparsity 1.0", "--sparsity"},
                      BadCase{"sparsity_negative", "--sparsity -0.1", "--sparsity"},
                      BadCase{"distribution", "--distribution gaussian", "unknown distribution"},
                      BadCase{"structure", "--structure blocks", "unknown structure"},
                      BadCase{"fmnist_dir", "--dataset fashion-mnist --data-dir /nonexistent/fmnist", "/nonexistent/fmnist"},
                      BadCase{"cifar_dir", "--dataset cifar10 --data-dir /nonexistent/cifar", "/nonexistent/cifar"},
                      BadCase{"image", "--dataset folder --input-size 32 --data-dir @IMGS@", "broken.png"},
                      BadCase{"resume", "--resume /nonexistent/ckpt.pt --dataset synthetic", "checkpoint not found"},
                      BadCase{"report_dir", "--dataset synthetic --report /nonexistent/dir/r.json", "--report"},
                      BadCase{"flops_report_dir", "--flops-only --report /nonexistent/dir/r.json", "/nonexistent/dir"},
                      BadCase{"log_dir", "--dataset synthetic --log /nonexistent/dir/l.jsonl", "--log"},
                      BadCase{"checkpoint_dir", "--dataset synthetic --checkpoint /nonexistent/dir/c.pt", "--checkpoint"},
                      BadCase{"trace_dir", "--dataset synthetic --trace /nonexistent/dir/t.swt", "--trace"},
                      BadCase{"trace_start", "--dataset synthetic --trace @DIR@/t.swt --trace-start 1", "--trace-start"},
                      BadCase{"save_init_dir", "--dataset synthetic --save-init /nonexistent/dir/i.pt", "--save-init"},
                      // a directory below a regular file cannot be created
                      BadCase{"dump_batches", "--dataset synthetic --dump-batches @DIR@/imgs/train/cat/broken.png/b",
                              "--dump-batches"}),
    [](const ::testing::TestParamInfo<BadCase>& i) { return std::string(i.param.name); });

TEST(SwatTrainCli, CheckpointOfAnotherModelIsRejected) {
  auto d = tmpdir("ckpt_model");
  const auto ck = (d / "c.pt").string();
  ASSERT_EQ(run(kQuick + "--iterations 1 --checkpoint " + ck, d).code, 0);
  auto r = run("--model resnet18 --dataset synthetic --batch 2 --iterations 1 --no-progress --resume " + ck, d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("small-cnn"), std::string::npos) << r.err;
  { std::ofstream(d / "junk.pt") << "not a checkpoint"; }
  r = run(kQuick + "--iterations 1 --resume " + (d / "junk.pt").string(), d);
  EXPECT_EQ(r.code, 2) << r.err;
}

// Output paths are checked before training starts: nothing is trained (no log line written).
TEST(SwatTrainCli, OutputsCheckedBeforeTraining) {
  auto d = tmpdir("outputs");
  fs::create_directories(d / "ro");
  for (const std::string opt : {"--report", "--checkpoint", "--trace"}) {
    const auto log = d / "l.jsonl";
    fs::remove(log);
    auto r = run(kQuick + "--iterations 3 --log " + log.string() + " " + opt + " " + (d / "missing/out").string(), d);
    EXPECT_EQ(r.code, 2) << opt << ": " << r.err;
    EXPECT_NE(r.err.find(opt), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(log)) << opt << ": training ran before the output path was checked";
  }
  if (::geteuid() != 0) {  // root writes anywhere
    fs::permissions(d / "ro", fs::perms::owner_write, fs::perm_options::remove);
    auto r = run(kQuick + "--iterations 1 --report " + (d / "ro/r.json").string(), d);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("not writable"), std::string::npos) << r.err;
    fs::permissions(d / "ro", fs::perms::owner_write, fs::perm_options::add);
  }
}

// An output path that is an existing directory is refused before training, with one line.
TEST(SwatTrainCli, OutputPathThatIsADirectoryIsRefusedBeforeTraining) {
  auto d = tmpdir("ckpt_dir");
  fs::create_directories(d / "ck.pt/inside");
  for (const std::string opt : {"--checkpoint", "--report"}) {
    const auto log = d / "l.jsonl";
    fs::remove(log);
    auto r = run(kQuick + "--iterations 1 --log " + log.string() + " " + opt + " " + (d / "ck.pt").string(), d);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("names a directory, expected a file"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(log)) << opt << ": training ran before the output path was checked";
  }
}

// --act-sparsity equal to the weight sparsity is the same setting as leaving it out.
TEST(SwatTrainCli, ResumeComparesEffectiveActivationSparsity) {
  auto d = tmpdir("ckpt_act");
  const auto ck = (d / "c.pt").string();
  ASSERT_EQ(run(kQuick + "--iterations 1 --sparsity 0.8 --checkpoint " + ck, d).code, 0);
  auto r = run(kQuick + "--iterations 2 --sparsity 0.8 --act-sparsity 0.8 --resume " + ck, d);
  EXPECT_EQ(r.code, 0) << r.err;
  r = run(kQuick + "--iterations 2 --sparsity 0.8 --act-sparsity 0.5 --resume " + ck, d);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("trained with --act-sparsity 0.8 (as the weights)"), std::string::npos) << r.err;
}

TEST(SwatTrainCli, ErkThatCannotReachItsTargetIsRefused) {
  auto d = tmpdir("erk_extreme");
  auto r = run("--flops-only --model small-cnn --distribution erk --sparsity 0.9999", d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot reach its global target"), std::string::npos) << r.err;
}

// The SWAT settings are stored in the checkpoint; resuming with other ones is rejected, naming the setting.
// (Resuming with the same settings: SeedsAreBitIdenticalAndResumeIsExact.)
void expect_settings_rejected(const std::string& name, const std::vector<std::string>& changes) {
  auto d = tmpdir(name);
  const auto ck = (d / "c.pt").string();
  ASSERT_EQ(run(kQuick + "--iterations 1 --sparsity 0.8 --topk-period 2 --checkpoint " + ck, d).code, 0);
  for (const auto& change : changes) {
    auto args = kQuick + "--iterations 2 --resume " + ck + " " + change;
    if (change.rfind("--sparsity", 0) != 0) args += " --sparsity 0.8";
    if (change.rfind("--topk-period", 0) != 0) args += " --topk-period 2";
    auto r = run(args, d);
    EXPECT_EQ(r.code, 2) << change << ": " << r.err;
    const auto option = change.substr(0, change.find(' '));
    EXPECT_NE(r.err.find("trained with " + option), std::string::npos) << change << ": " << r.err;
  }
}

TEST(SwatTrainCli, ResumeWithOtherSparsityIsRejected) {
  expect_settings_rejected("ckpt_settings1", {"--sparsity 0.9", "--act-sparsity 0.5", "--distribution erk"});
}
TEST(SwatTrainCli, ResumeWithOtherStructureOrPeriodIsRejected) {
  expect_settings_rejected("ckpt_settings2", {"--structure filter", "--sparsify-first", "--topk-period 3"});
}

TEST(SwatTrainCli, ActSparsityWithoutWeightSparsity) {
  auto d = tmpdir("act_only");
  const auto path = (d / "t.swt").string();
  auto r = run(kQuick + "--sparsity 0 --act-sparsity 0.5 --iterations 1 --trace " + path + " --trace-samples 8", d);
  ASSERT_EQ(r.code, 0) << r.err;
  tr::TraceReader reader(path);
  ASSERT_TRUE(reader.header().layers[1].has(tr::TensorKind::SavedAct));
  auto w = reader.read_mask(*reader.find(0, 1, tr::TensorKind::Weight));
  EXPECT_EQ(w.count(), w.numel());  // weights dense
  auto a = reader.read_mask(*reader.find(0, 1, tr::TensorKind::SavedAct));
  EXPECT_EQ(a.count(), (a.numel() + 1) / 2);  // activations top-K 50%
}

TEST(SwatTrainCli, SeedsAreBitIdenticalAndResumeIsExact) {
  auto d = tmpdir("resume");
  // A constant schedule, so that a 3-iteration run is the first half of a 6-iteration one.
  const std::string common = kQuick + "--sparsity 0.8 --topk-period 2 --lr 0.05 --seed 7 --schedule constant ";
  ASSERT_EQ(run(common + "--iterations 6 --log " + (d / "a.jsonl").string(), d).code, 0);
  ASSERT_EQ(run(common + "--iterations 6 --log " + (d / "b.jsonl").string(), d).code, 0);
  auto a = read_log(d / "a.jsonl"), b = read_log(d / "b.jsonl");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].dump(), b[i].dump());
  ASSERT_EQ(run(common + "--iterations 3 --checkpoint " + (d / "half.pt").string(), d).code, 0);
  ASSERT_EQ(run(common + "--iterations 6 --resume " + (d / "half.pt").string() + " --log " + (d / "r.jsonl").string(), d).code, 0);
  auto r = read_log(d / "r.jsonl");
  ASSERT_GE(r.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r[size_t(i)]["iteration"], a[size_t(i + 3)]["iteration"]);
    EXPECT_EQ(r[size_t(i)]["loss"].get<double>(), a[size_t(i + 3)]["loss"].get<double>()) << "iteration " << i + 3;
    EXPECT_EQ(r[size_t(i)]["weight_density"].dump(), a[size_t(i + 3)]["weight_density"].dump());
  }
}

namespace {
// A recorded tensor as dense values (C order), from its mask and stored non-zeros.
std::vector<float> dense_values(tr::TraceReader& reader, uint32_t it, uint16_t layer, tr::TensorKind kind) {
  const auto* rec = reader.find(it, layer, kind);
  if (rec == nullptr) { ADD_FAILURE() << "missing tensor " << it << "/" << layer; return {}; }
  std::vector<float> values;
  auto m = reader.read(*rec, &values);
  EXPECT_EQ(values.size(), m.count());
  std::vector<float> out(m.numel(), 0.0f);
  size_t j = 0;
  for (uint64_t i = 0; i < m.numel() && j < values.size(); ++i)
    if (m.test(i)) out[i] = values[j++];
  return out;
}
}  // namespace

TEST(SwatTrainCli, TraceRoundTrip) {
  auto d = tmpdir("trace");
  const auto path = (d / "t.swt").string();
  // The whole batch (8) is recorded, so the saved activations are the whole top-K tensors.
  auto r = run(kQuick + "--sparsity 0.8 --iterations 3 --trace " + path + " --trace-every 2 --trace-samples 8 --trace-values",
               d);
  ASSERT_EQ(r.code, 0) << r.err;
  tr::TraceReader reader(path);
  const auto& h = reader.header();
  EXPECT_EQ(h.producer, "swat-train");
  EXPECT_EQ(h.model, "small-cnn");
  EXPECT_EQ(h.batch_size, 8u);
  EXPECT_DOUBLE_EQ(h.swat.sparsity, 0.8);
  ASSERT_EQ(h.layers.size(), 4u);
  EXPECT_EQ(reader.iterations(), (std::vector<uint32_t>{0, 2}));
  // The dense first layer stores no separate saved activation.
  EXPECT_FALSE(h.layers[0].has(tr::TensorKind::SavedAct));
  EXPECT_TRUE(h.layers[1].has(tr::TensorKind::SavedAct));
  EXPECT_EQ(h.layers[0].N, 8u);
  EXPECT_EQ(h.layers[1].C, 32u);
  EXPECT_EQ(h.layers[1].H, 14u);
  EXPECT_EQ(h.layers[2].kind, tr::LayerKind::Linear);
  // Iteration 0 recomputes top-K: exactly ceil(0.2*numel) weights survive.
  const auto* w = reader.find(0, 1, tr::TensorKind::Weight);
  ASSERT_NE(w, nullptr);
  std::vector<float> values;
  auto m = reader.read(*w, &values);
  EXPECT_EQ(m.count(), uint64_t(std::ceil(0.2 * double(m.numel()) - 1e-6)));
  EXPECT_EQ(values.size(), m.count());
  const int B = 8, K = 10, H = 128;
  for (uint32_t it : {0u, 2u}) {
    // Saved activation (top-K recomputed every iteration): exactly ceil(0.2*numel) values, a subset of the
    // input activation with equal values, and no dropped input value of larger magnitude than a kept one.
    for (uint16_t layer : {1, 2, 3}) {
      auto in = dense_values(reader, it, layer, tr::TensorKind::InputAct);
      auto sv = dense_values(reader, it, layer, tr::TensorKind::SavedAct);
      ASSERT_EQ(in.size(), sv.size());
      uint64_t kept = 0;
      float min_kept = INFINITY, max_dropped = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        if (sv[i] != 0) {
          ++kept;
          ASSERT_EQ(sv[i], in[i]) << "layer " << layer << " element " << i;
          min_kept = std::min(min_kept, std::abs(sv[i]));
        } else {
          max_dropped = std::max(max_dropped, std::abs(in[i]));
        }
      }
      EXPECT_EQ(kept, uint64_t(std::ceil(0.2 * double(in.size()) - 1e-6))) << "iteration " << it << " layer " << layer;
      EXPECT_GE(min_kept, max_dropped) << "iteration " << it << " layer " << layer;
    }
    // Last FC: dY = (softmax - onehot)/B, so each sample's row sums to 0 and |dY| <= 1/B.
    auto g3 = dense_values(reader, it, 3, tr::TensorKind::OutputGrad);
    ASSERT_EQ(g3.size(), size_t(B * K));
    for (int n = 0; n < B; ++n) {
      double sum = 0;
      int negative = 0;
      for (int k = 0; k < K; ++k) {
        sum += g3[size_t(n * K + k)];
        negative += g3[size_t(n * K + k)] < 0;
        EXPECT_LE(std::abs(g3[size_t(n * K + k)]), 1.0 / B + 1e-6);
      }
      EXPECT_NEAR(sum, 0.0, 1e-6) << "sample " << n;
      EXPECT_EQ(negative, 1) << "sample " << n;  // the true class
    }
    // fc1's dY = (dY_fc2 . W_s(fc2)) masked by relu(fc1 output) > 0, i.e. by fc2's input activation > 0.
    auto ws3 = dense_values(reader, it, 3, tr::TensorKind::Weight);   // (K, H)
    auto x3 = dense_values(reader, it, 3, tr::TensorKind::InputAct);  // (B, H)
    auto g2 = dense_values(reader, it, 2, tr::TensorKind::OutputGrad);
    ASSERT_EQ(g2.size(), size_t(B * H));
    for (int n = 0; n < B; ++n)
      for (int j = 0; j < H; ++j) {
        double want = 0;
        if (x3[size_t(n * H + j)] > 0)
          for (int k = 0; k < K; ++k) want += double(g3[size_t(n * K + k)]) * double(ws3[size_t(k * H + j)]);
        ASSERT_NEAR(g2[size_t(n * H + j)], want, 1e-6 + 1e-4 * std::abs(want)) << "sample " << n << " unit " << j;
      }
  }
}

TEST(SwatTrainCli, FlopsOnlyResNet50) {
  auto d = tmpdir("flops");
  for (auto [s, published] : {std::pair{"0.8", 0.777}, std::pair{"0.9", 0.874}}) {
    const auto rep = d / "r.json";
    auto r = run(std::string("--flops-only --model resnet50-imagenet --sparsity ") + s + " --report " + rep.string(), d);
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream f(rep);
    auto j = nlohmann::json::parse(f);
    EXPECT_NEAR(j["totals"]["inference_flop_reduction"].get<double>(), published, 0.005);
    EXPECT_GT(j["totals"]["training_flop_reduction"].get<double>(), 0.7);
    EXPECT_EQ(j["layers"].size(), 54u);
  }
}

namespace {

// A w x h RGB image whose red channel is 200 on the left half, green = 10*class, blue = 50.
std::vector<uint8_t> test_rgb(int w, int h, int cls) {
  std::vector<uint8_t> px(size_t(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &px[size_t((y * w + x) * 3)];
      p[0] = x < w / 2 ? 200 : 0;
      p[1] = uint8_t(10 * cls);
      p[2] = 50;
    }
  return px;
}

void write_png(const fs::path& path, int w, int h, const std::vector<uint8_t>& px) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  img.width = uint32_t(w);
  img.height = uint32_t(h);
  img.format = PNG_FORMAT_RGB;
  ASSERT_TRUE(png_image_write_to_file(&img, path.c_str(), 0, px.data(), 0, nullptr)) << img.message;
}

void write_jpeg(const fs::path& path, int w, int h, const std::vector<uint8_t>& px) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  jpeg_stdio_dest(&c, f);
  c.image_width = JDIMENSION(w);
  c.image_height = JDIMENSION(h);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 95, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(px.data()) + size_t(c.next_scanline) * size_t(w) * 3;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::fclose(f);
}

}  // namespace

TEST(Images, DecodePngAndJpegResized) {
  auto d = tmpdir("images");
  const auto px = test_rgb(40, 20, 3);
  write_png(d / "a.png", 40, 20, px);
  write_jpeg(d / "b.jpg", 40, 20, px);
  for (const char* name : {"a.png", "b.jpg"}) {
    auto out = swatsim::frontend::decode_image_rgb((d / name).string(), 8);
    ASSERT_EQ(out.size(), 3u * 8 * 8);
    // planar C,H,W: red high on the left, low on the right; green 30; blue 50 (JPEG: approximately)
    EXPECT_NEAR(out[0 * 64 + 3 * 8 + 0], 200, 6) << name;
    EXPECT_NEAR(out[0 * 64 + 3 * 8 + 7], 0, 6) << name;
    EXPECT_NEAR(out[1 * 64 + 3 * 8 + 5], 30, 6) << name;
    EXPECT_NEAR(out[2 * 64 + 3 * 8 + 5], 50, 6) << name;
  }
  { std::ofstream(d / "c.jpg") << "\xff\xd8\xff not really a jpeg"; }
  EXPECT_THROW(swatsim::frontend::decode_image_rgb((d / "c.jpg").string(), 8), swatsim::InputError);
}

TEST(SwatTrainCli, FolderDatasetTrains) {
  auto d = tmpdir("folder");
  for (int cls = 0; cls < 2; ++cls) {
    const auto dir = d / "data/train" / (cls ? "dog" : "cat");
    fs::create_directories(dir);
    for (int i = 0; i < 3; ++i) {
      const auto px = test_rgb(24 + i, 20, cls * 10 + i);
      if (i % 2) write_jpeg(dir / ("img" + std::to_string(i) + ".jpg"), 24 + i, 20, px);
      else write_png(dir / ("img" + std::to_string(i) + ".png"), 24 + i, 20, px);
    }
  }
  auto r = run("--model small-cnn --dataset folder --data-dir " + (d / "data").string() +
                   " --input-size 28 --batch 4 --iterations 2 --sparsity 0.8 --no-progress --log " + (d / "l.jsonl").string(),
               d);
  ASSERT_EQ(r.code, 0) << r.err;
  auto log = read_log(d / "l.jsonl");
  ASSERT_FALSE(log.empty());
  EXPECT_TRUE(log.back()["final"].get<bool>());
  EXPECT_GE(log.back()["top1"].get<double>(), 0.0);
  // No val/ split: evaluated on the training images, with a warning, and labelled so.
  EXPECT_EQ(log.back()["eval_split"], "train");
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no val/"), std::string::npos) << r.err;
}

TEST(SwatTrainCli, KilledRunLeavesNoTrace) {
  auto d = tmpdir("killed");
  const auto path = d / "t.swt";
  // Killed with SIGKILL while recording (every iteration is recorded, the temporary file is growing):
  // no file may appear at the trace path.
  std::vector<std::string> args{SWAT_TRAIN_BIN, "--model", "small-cnn", "--dataset", "synthetic", "--batch", "8",
                                "--no-progress", "--quiet", "--no-eval", "--sparsity", "0.8",
                                "--iterations", "1000000", "--threads", "1", "--trace", path.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // Wait until the temporary trace file holds several recorded iterations (at most 20 s).
  bool tmp_seen = false;
  const auto t0 = std::chrono::steady_clock::now();
  while (!tmp_seen && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
    for (const auto& e : fs::directory_iterator(d)) {
      const auto name = e.path().filename().string();
      std::error_code ec;
      if (name.rfind("t.swt.", 0) == 0 && fs::file_size(e.path(), ec) > (256u << 10) && !ec) tmp_seen = true;
    }
    if (!tmp_seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(path)) << "the trace path appeared before the run ended";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(tmp_seen) << "no growing temporary trace file before the kill";
  ASSERT_TRUE(WIFSIGNALED(st)) << "exit status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGKILL);  // the shell's 137
  EXPECT_FALSE(fs::exists(path));
}

TEST(SwatTrainCli, CifarBinaryBatches) {
  auto d = tmpdir("cifar");
  auto write = [&](const std::string& name, int records, int label_bytes) {
    std::ofstream f(d / name, std::ios::binary);
    for (int r = 0; r < records; ++r) {
      for (int b = 0; b < label_bytes; ++b) f.put(char(r % 10));
      for (int i = 0; i < 3072; ++i) f.put(char((i + r) & 0xff));
    }
  };
  for (int i = 1; i <= 5; ++i) write("data_batch_" + std::to_string(i) + ".bin", 4, 1);
  write("test_batch.bin", 4, 1);
  auto r = run("--model resnet18 --dataset cifar10 --data-dir " + d.string() +
                   " --batch 4 --iterations 1 --input-size 16 --no-progress --log " + (d / "l.jsonl").string(),
               d);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream out(d / "stdout.txt");
  std::stringstream ss;
  ss << out.rdbuf();
  EXPECT_NE(ss.str().find("20 train / 4 test, 10 classes"), std::string::npos) << ss.str();
  // A truncated batch file is bad input.
  { std::ofstream(d / "test_batch.bin", std::ios::binary) << "short"; }
  r = run("--model resnet18 --dataset cifar10 --data-dir " + d.string() + " --batch 4 --iterations 1", d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("test_batch.bin"), std::string::npos) << r.err;
}

TEST(SwatTrainCli, FashionMnistDefault) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  auto d = tmpdir("fmnist");
  auto r = run("--sparsity 0.8 --batch 16 --iterations 2 --eval-samples 64 --no-progress", d);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream out(d / "stdout.txt");
  std::stringstream ss;
  ss << out.rdbuf();
  EXPECT_NE(ss.str().find("small-cnn on fashion-mnist (60000 train / 10000 test, 10 classes, input 1x28x28)"),
            std::string::npos)
      << ss.str();
}

TEST(SwatTrainCli, SparsifyFirstAndActSparsityInTrace) {
  auto d = tmpdir("first");
  const auto path = (d / "t.swt").string();
  auto r = run(kQuick + "--sparsity 0.9 --act-sparsity 0.5 --sparsify-first --iterations 1 --trace " + path, d);
  ASSERT_EQ(r.code, 0) << r.err;
  tr::TraceReader reader(path);
  const auto& h = reader.header();
  EXPECT_TRUE(h.swat.sparsify_first);
  EXPECT_DOUBLE_EQ(h.swat.activation_sparsity, 0.5);
  ASSERT_TRUE(h.layers[0].has(tr::TensorKind::SavedAct));
  auto w = reader.read_mask(*reader.find(0, 0, tr::TensorKind::Weight));
  EXPECT_EQ(w.count(), uint64_t(std::ceil(0.1 * double(w.numel()) - 1e-6)));  // first layer sparse too
  auto a = reader.read_mask(*reader.find(0, 1, tr::TensorKind::SavedAct));
  // top-K over the whole batch tensor; the recorded 2 samples hold about half their elements
  EXPECT_NEAR(a.density(), 0.5, 0.15);
}
