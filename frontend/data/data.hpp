#pragma once
// Datasets for swat-train, as 8-bit images in memory (no LibTorch here).
// fashion-mnist: the idx gzip files of Debian's dataset-fashion-mnist, read with zlib.
// cifar10 / cifar100: the binary batches. folder: DIR/train/<class>/*.{png,jpg} (+ DIR/val/).
// synthetic: random images, only when asked for.
#include <cstdint>
#include <string>
#include <vector>

namespace swatsim::frontend {

struct Dataset {
  int64_t n = 0, c = 0, h = 0, w = 0;
  std::vector<uint8_t> pixels;  ///< n*c*h*w, C order
  std::vector<int64_t> labels;
  const uint8_t* image(int64_t i) const { return pixels.data() + i * c * h * w; }
};

struct DataSplit {
  std::string name;
  Dataset train, test;
  int64_t classes = 0;
  std::vector<float> mean, stddev;  ///< per channel, on [0,1] pixels
  bool test_is_train = false;       ///< folder without val/: `test` is a copy of the training images
};

struct DataRequest {
  std::string name = "fashion-mnist";
  std::string dir;             ///< empty: the dataset's default location
  int64_t folder_size = 224;   ///< folder images are resized to this on load
  int64_t synthetic_size = 32;
  int64_t synthetic_channels = 3;
  int64_t synthetic_classes = 10;
  int64_t synthetic_train = 1024, synthetic_test = 256;
  uint64_t seed = 0;
};

const std::vector<std::string>& dataset_names();
std::string default_data_dir(const std::string& name);
/// Loads both splits. Throws InputError for an unknown dataset, a missing path or a bad file.
DataSplit load_dataset(const DataRequest& req);

/// Decodes a PNG or JPEG file (by its signature) into 8-bit RGB (c=3), resized to size x size
/// with bilinear sampling. Throws InputError naming the file if it cannot be decoded.
std::vector<uint8_t> decode_image_rgb(const std::string& path, int64_t size);

}  // namespace swatsim::frontend
