#include "data/data.hpp"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "swatsim/common/error.hpp"

namespace swatsim::frontend {

namespace fs = std::filesystem;

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names{"fashion-mnist", "cifar10", "cifar100", "folder", "synthetic"};
  return names;
}

std::string default_data_dir(const std::string& name) {
  if (name == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  return "";
}

namespace {

std::vector<uint8_t> read_gzip(const std::string& path) {
  if (!fs::exists(path)) throw InputError(path, "file not found");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path, "cannot open");
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    const int n = gzread(f, buf.data(), unsigned(buf.size()));
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      throw InputError(path, "gzip read error: " + msg);
    }
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  gzclose(f);
  return out;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | uint32_t(b[at + 3]);
}

Dataset read_idx(const std::string& images_path, const std::string& labels_path) {
  auto img = read_gzip(images_path);
  auto lab = read_gzip(labels_path);
  if (img.size() < 16 || be32(img, 0) != 0x803)
    throw InputError(images_path, "not an idx3 image file (bad magic number)");
  if (lab.size() < 8 || be32(lab, 0) != 0x801)
    throw InputError(labels_path, "not an idx1 label file (bad magic number)");
  Dataset d;
  d.n = be32(img, 4);
  d.c = 1;
  d.h = be32(img, 8);
  d.w = be32(img, 12);
  if (img.size() != 16 + size_t(d.n * d.h * d.w))
    throw InputError(images_path, "size does not match its header (truncated?)");
  if (be32(lab, 4) != uint32_t(d.n) || lab.size() != 8 + size_t(d.n))
    throw InputError(labels_path, "label count does not match the images");
  d.pixels.assign(img.begin() + 16, img.end());
  for (size_t i = 8; i < lab.size(); ++i) {
    if (lab[i] > 9) throw InputError(labels_path, "label out of range 0..9");
    d.labels.push_back(lab[i]);
  }
  return d;
}

void read_cifar_file(const fs::path& p, int label_bytes, Dataset& d, int64_t classes) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(p.string(), "file not found or unreadable");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t rec = size_t(label_bytes) + 3072;
  if (bytes.empty() || bytes.size() % rec != 0)
    throw InputError(p.string(), "size " + std::to_string(bytes.size()) + " is not a multiple of the " +
                                     std::to_string(rec) + "-byte CIFAR record");
  d.c = 3; d.h = 32; d.w = 32;
  for (size_t at = 0; at < bytes.size(); at += rec) {
    const int64_t label = bytes[at + size_t(label_bytes) - 1];  // CIFAR-100: fine label is the second byte
    if (label >= classes) throw InputError(p.string(), "label " + std::to_string(label) + " out of range");
    d.labels.push_back(label);
    d.pixels.insert(d.pixels.end(), bytes.begin() + long(at) + label_bytes, bytes.begin() + long(at + rec));
    ++d.n;
  }
}

DataSplit load_cifar(const std::string& dir, bool hundred) {
  DataSplit s;
  s.name = hundred ? "cifar100" : "cifar10";
  s.classes = hundred ? 100 : 10;
  // Per-channel statistics of the CIFAR-10 training set (as used by kuangliu/pytorch-cifar).
  s.mean = {0.4914f, 0.4822f, 0.4465f};
  s.stddev = {0.2470f, 0.2435f, 0.2616f};
  if (dir.empty()) throw InputError("--data-dir", "CIFAR needs --data-dir (the folder of the binary batches)");
  if (!fs::is_directory(dir)) throw InputError(dir, "dataset directory not found");
  if (hundred) {
    read_cifar_file(fs::path(dir) / "train.bin", 2, s.train, 100);
    read_cifar_file(fs::path(dir) / "test.bin", 2, s.test, 100);
  } else {
    for (int i = 1; i <= 5; ++i)
      read_cifar_file(fs::path(dir) / ("data_batch_" + std::to_string(i) + ".bin"), 1, s.train, 10);
    read_cifar_file(fs::path(dir) / "test_batch.bin", 1, s.test, 10);
  }
  return s;
}

bool is_image(const fs::path& p) {
  auto e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}

Dataset read_folder_split(const fs::path& root, const std::vector<std::string>& classes, int64_t size) {
  Dataset d;
  d.c = 3; d.h = size; d.w = size;
  for (size_t k = 0; k < classes.size(); ++k) {
    const fs::path cdir = root / classes[k];
    if (!fs::is_directory(cdir)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(cdir))
      if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto px = decode_image_rgb(f.string(), size);
      d.pixels.insert(d.pixels.end(), px.begin(), px.end());
      d.labels.push_back(int64_t(k));
      ++d.n;
    }
  }
  return d;
}

DataSplit load_folder(const std::string& dir, int64_t size) {
  DataSplit s;
  s.name = "folder";
  // ImageNet statistics (torchvision's reference training scripts).
  s.mean = {0.485f, 0.456f, 0.406f};
  s.stddev = {0.229f, 0.224f, 0.225f};
  if (dir.empty()) throw InputError("--data-dir", "the folder dataset needs --data-dir");
  if (!fs::is_directory(dir)) throw InputError(dir, "dataset directory not found");
  fs::path train = fs::path(dir) / "train";
  if (!fs::is_directory(train)) train = dir;  // a plain folder of class subfolders
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(train))
    if (e.is_directory()) classes.push_back(e.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw InputError(train.string(), "no class subfolders");
  s.classes = int64_t(classes.size());
  s.train = read_folder_split(train, classes, size);
  if (s.train.n == 0) throw InputError(train.string(), "no .png/.jpg/.jpeg images in the class subfolders");
  fs::path val = fs::path(dir) / "val";
  s.test_is_train = !fs::is_directory(val);
  s.test = s.test_is_train ? s.train : read_folder_split(val, classes, size);
  return s;
}

DataSplit make_synthetic(const DataRequest& r) {
  DataSplit s;
  s.name = "synthetic";
  s.classes = r.synthetic_classes;
  s.mean.assign(size_t(r.synthetic_channels), 0.5f);
  s.stddev.assign(size_t(r.synthetic_channels), 0.29f);
  std::mt19937_64 rng(r.seed ^ 0x5eed5eedULL);
  auto fill = [&](Dataset& d, int64_t n) {
    d.n = n; d.c = r.synthetic_channels; d.h = d.w = r.synthetic_size;
    d.pixels.resize(size_t(n * d.c * d.h * d.w));
    for (auto& p : d.pixels) p = uint8_t(rng() & 0xff);
    for (int64_t i = 0; i < n; ++i) d.labels.push_back(int64_t(rng() % uint64_t(r.synthetic_classes)));
  };
  fill(s.train, r.synthetic_train);
  fill(s.test, r.synthetic_test);
  return s;
}

}  // namespace

DataSplit load_dataset(const DataRequest& req) {
  const std::string dir = req.dir.empty() ? default_data_dir(req.name) : req.dir;
  if (req.name == "fashion-mnist") {
    if (!fs::is_directory(dir))
      throw InputError(dir, "Fashion-MNIST directory not found (install Debian's dataset-fashion-mnist or pass --data-dir)");
    DataSplit s;
    s.name = req.name;
    s.classes = 10;
    // Mean and standard deviation of the Fashion-MNIST training pixels (scaled to [0,1]).
    s.mean = {0.2860f};
    s.stddev = {0.3530f};
    s.train = read_idx(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz");
    s.test = read_idx(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
    return s;
  }
  if (req.name == "cifar10") return load_cifar(dir, false);
  if (req.name == "cifar100") return load_cifar(dir, true);
  if (req.name == "folder") return load_folder(dir, req.folder_size);
  if (req.name == "synthetic") return make_synthetic(req);
  throw InputError("--dataset", "unknown dataset '" + req.name +
                                    "' (expected fashion-mnist, cifar10, cifar100, folder or synthetic)");
}

}  // namespace swatsim::frontend
