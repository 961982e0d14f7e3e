// PNG (libpng) and JPEG (libjpeg-turbo) decoding for the folder dataset.
#include <algorithm>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include <jpeglib.h>  // needs size_t and FILE declared first
#include <png.h>

#include "data/data.hpp"
#include "swatsim/common/error.hpp"

namespace swatsim::frontend {

namespace {

struct Rgb {
  int64_t w = 0, h = 0;
  std::vector<uint8_t> px;  // h*w*3, interleaved
};

Rgb decode_png(const std::string& path) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path.c_str()))
    throw InputError(path, std::string("unreadable PNG: ") + img.message);
  img.format = PNG_FORMAT_RGB;
  Rgb out;
  out.w = img.width;
  out.h = img.height;
  out.px.resize(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, out.px.data(), 0, nullptr)) {
    std::string msg = img.message;
    png_image_free(&img);
    throw InputError(path, "unreadable PNG: " + msg);
  }
  return out;
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Plain C-style function so that no C++ object with a destructor lives across setjmp.
bool decode_jpeg_raw(std::FILE* f, Rgb* out, char* message) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  if (setjmp(err.jump)) {
    std::memcpy(message, err.message, JMSG_LENGTH_MAX);
    message[JMSG_LENGTH_MAX - 1] = 0;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, f);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out->w = cinfo.output_width;
  out->h = cinfo.output_height;
  out->px.resize(size_t(out->w * out->h * 3));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->px.data() + size_t(cinfo.output_scanline) * size_t(out->w) * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

Rgb decode_jpeg(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw InputError(path, "cannot open");
  Rgb out;
  char message[JMSG_LENGTH_MAX] = {0};
  if (!decode_jpeg_raw(f.get(), &out, message)) throw InputError(path, std::string("unreadable JPEG: ") + message);
  return out;
}

}  // namespace

std::vector<uint8_t> decode_image_rgb(const std::string& path, int64_t size) {
  unsigned char sig[8] = {0};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "cannot open");
    in.read(reinterpret_cast<char*>(sig), 8);
    if (in.gcount() < 3) throw InputError(path, "unreadable image: file too short");
  }
  Rgb img;
  if (png_sig_cmp(sig, 0, 8) == 0) img = decode_png(path);
  else if (sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) img = decode_jpeg(path);
  else throw InputError(path, "unreadable image: neither PNG nor JPEG");
  if (img.w <= 0 || img.h <= 0) throw InputError(path, "unreadable image: empty");
  // Bilinear resize to size x size (align_corners=false), output planar C,H,W.
  std::vector<uint8_t> out(size_t(3 * size * size));
  const double sy = double(img.h) / double(size), sx = double(img.w) / double(size);
  for (int64_t y = 0; y < size; ++y) {
    const double fy = std::max(0.0, (double(y) + 0.5) * sy - 0.5);
    const int64_t y0 = std::min<int64_t>(int64_t(fy), img.h - 1), y1 = std::min<int64_t>(y0 + 1, img.h - 1);
    const double wy = fy - double(y0);
    for (int64_t x = 0; x < size; ++x) {
      const double fx = std::max(0.0, (double(x) + 0.5) * sx - 0.5);
      const int64_t x0 = std::min<int64_t>(int64_t(fx), img.w - 1), x1 = std::min<int64_t>(x0 + 1, img.w - 1);
      const double wx = fx - double(x0);
      for (int c = 0; c < 3; ++c) {
        auto at = [&](int64_t yy, int64_t xx) { return double(img.px[size_t((yy * img.w + xx) * 3 + c)]); };
        const double v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
        out[size_t((c * size + y) * size + x)] = uint8_t(std::clamp(v + 0.5, 0.0, 255.0));
      }
    }
  }
  return out;
}

}  // namespace swatsim::frontend
