#include "edgessd/data/synth.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>

#include "edgessd/common/boxes.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/random.h"
#include "edgessd/plates/plate_render.h"

namespace edgessd {

namespace fs = std::filesystem;

namespace {

const char* const kClassName = "Vehicle registration plate";
const char* const kLabel = "/m/01jfm_";
const int kMinPhotoSide = 32;  // a background photo smaller than this is skipped

struct PlateBox {
  CornerBox box;     // pixels
  std::string text;  // PlateText: what the plate reads
};

double uniform(Random& r, double lo, double hi) { return r.uniform(lo, hi); }
int uniform_int(Random& r, int lo, int hi) { return r.between(lo, hi); }

cv::Mat photo_background(Random& r, const std::string& path, cv::Size size) {
  cv::Mat photo = cv::imread(path, cv::IMREAD_COLOR);
  if (photo.cols < kMinPhotoSide || photo.rows < kMinPhotoSide) return {};
  // A random crop of at least half the photo, resized to the image.
  const double scale = uniform(r, 0.5, 1.0);
  const int w = std::max(16, static_cast<int>(photo.cols * scale)), h = std::max(16, static_cast<int>(photo.rows * scale));
  const int y = uniform_int(r, 0, photo.rows - h), x = uniform_int(r, 0, photo.cols - w);  // GCC's old order
  const cv::Rect crop(x, y, w, h);
  cv::Mat out;
  cv::resize(photo(crop), out, size, 0, 0, cv::INTER_AREA);
  if (uniform_int(r, 0, 1)) cv::flip(out, out, 1);
  return out;
}

// Draws 1-3 plates into `image`; returns their exact boxes.
std::vector<PlateBox> place_plates(Random& r, cv::Mat& image) {
  std::vector<PlateBox> placed;
  const int wanted = uniform_int(r, 1, 3);
  for (int attempt = 0; attempt < 30 && static_cast<int>(placed.size()) < wanted; ++attempt) {
    const double aspect = uniform(r, 1.8, 4.7);
    const double width = image.cols * std::exp(uniform(r, std::log(0.06), std::log(0.45)));
    const double height = width / aspect;
    if (height < 8 || width > image.cols - 4 || height > image.rows - 4) continue;
    const double x = uniform(r, 2, image.cols - width - 2), y = uniform(r, 2, image.rows - height - 2);
    // Perspective: each corner moves by up to 12% of the plate's size, inside the image.
    std::vector<cv::Point2f> quad = {{float(x), float(y)}, {float(x + width), float(y)},
                                     {float(x + width), float(y + height)}, {float(x), float(y + height)}};
    const double jitter_x = width * 0.12, jitter_y = height * 0.12;
    for (auto& p : quad) {
      p.x = static_cast<float>(std::clamp(p.x + uniform(r, -jitter_x, jitter_x), 1.0, image.cols - 2.0));
      p.y = static_cast<float>(std::clamp(p.y + uniform(r, -jitter_y, jitter_y), 1.0, image.rows - 2.0));
    }
    cv::Rect2f bounds = cv::boundingRect(quad);
    const CornerBox box{bounds.x, bounds.y, bounds.x + bounds.width, bounds.y + bounds.height};
    if (std::any_of(placed.begin(), placed.end(), [&](const PlateBox& p) { return iou(p.box, box) > 0; })) continue;

    const DrawnPlate plate = draw_plate(r, aspect);
    // The box is where the plate's pixels actually landed.
    const cv::Rect drawn = warp_plate_into(image, plate.bgr, quad);
    if (drawn.width < 4 || drawn.height < 4) continue;
    placed.push_back({{float(drawn.x), float(drawn.y), float(drawn.x + drawn.width), float(drawn.y + drawn.height)},
                      plate.registration});
  }
  return placed;
}

void photographic_effects(Random& r, cv::Mat& image) {
  cv::Mat f;
  image.convertTo(f, CV_32FC3);
  // Lighting: a brightness ramp across the frame, and an overall gain and gamma.
  const double angle = uniform(r, 0, 2 * M_PI), strength = uniform(r, 0.0, 0.5), gain = uniform(r, 0.6, 1.3);
  cv::Mat ramp(image.size(), CV_32F);
  for (int y = 0; y < image.rows; ++y) {
    float* row = ramp.ptr<float>(y);
    for (int x = 0; x < image.cols; ++x) {
      const double t = (std::cos(angle) * x / image.cols + std::sin(angle) * y / image.rows);
      row[x] = static_cast<float>(gain * (1.0 - strength / 2 + strength * t));
    }
  }
  cv::Mat ramp3;
  cv::merge(std::vector<cv::Mat>{ramp, ramp, ramp}, ramp3);
  f = f.mul(ramp3);
  const double sigma = uniform(r, 0, 1.6);
  if (sigma > 0.3) cv::GaussianBlur(f, f, cv::Size(), sigma);
  cv::Mat noise(image.size(), CV_32FC3);
  cv::RNG(r.next()).fill(noise, cv::RNG::NORMAL, 0, uniform(r, 0, 9));
  f += noise;
  f.convertTo(image, CV_8UC3);
}

std::string image_id(uint64_t seed, int index) {
  // Hex like Open Images' IDs; unique per (seed, index).
  uint64_t h = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 31;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 29;
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(h));
  return id;
}

const char* split_of(int index) {
  const int m = index % 10;
  return m == 0 ? "test" : m == 5 ? "validation" : "train";
}

}  // namespace

std::vector<std::string> default_photo_dirs() {
  std::vector<std::string> dirs;
  for (const std::string d : {face_api_dir() + "/demo", std::string("/usr/share/backgrounds"),
                              std::string("/usr/share/wallpapers"), std::string("/usr/share/images/desktop-base")}) {
    std::error_code ec;
    if (fs::is_directory(d, ec)) dirs.push_back(d);
  }
  return dirs;
}

namespace {

// The background photos of the folders, sorted; undecodable or tiny files are skipped with
// a warning. A folder given by the user (`given`) that is not one, or holds no usable
// photo, is an Error; the default folders are only those present.
std::vector<std::string> decodable_photos(const std::vector<std::string>& dirs, bool given) {
  std::vector<std::string> photos;
  for (const auto& dir : dirs) {
    std::error_code e;
    if (!fs::is_directory(dir, e)) {
      if (given) throw Error("--photos " + dir + ": " + (fs::exists(dir, e) ? "not a folder" : "no such folder"));
      continue;
    }
    const std::vector<std::string> listed = list_images(dir);
    size_t kept = 0;
    for (const auto& p : listed) {
      // Reduced 8x: the size check without decoding every pixel of a large photo.
      const cv::Mat reduced = cv::imread(p, cv::IMREAD_REDUCED_GRAYSCALE_8);
      if (reduced.empty() || reduced.cols * 8 < kMinPhotoSide || reduced.rows * 8 < kMinPhotoSide) {
        log_warning(p + (reduced.empty() ? ": not a decodable image" : ": smaller than " +
                         std::to_string(kMinPhotoSide) + " px") + "; not used as a background");
        continue;
      }
      photos.push_back(p);
      ++kept;
    }
    if ((given || !listed.empty()) && kept == 0)
      throw Error("--photos " + dir + ": " + (listed.empty() ? "no images in it" : "none of its images is usable"));
  }
  std::sort(photos.begin(), photos.end());
  return photos;
}

// --out is new, empty, or a synthetic set of ours (synth.json): a folder holding anything
// else is refused. An earlier set of ours is cleared (its images, named by our ids) so that
// a smaller --count or another --seed leaves no stale image behind.
void prepare_out_folder(const std::string& out, const std::string& stamp) {
  std::error_code ec;
  if (!fs::is_directory(out, ec) || fs::is_empty(out, ec)) return;
  if (!fs::exists(stamp, ec))
    throw Error("--out " + out + ": holds files and is not a synthetic data set of ours (no synth.json); give a new "
                "or empty folder");
  static const std::regex ours("[0-9a-f]{16}\\.jpg");
  for (const char* split : {"train", "validation", "test"})
    for (const auto& entry : fs::directory_iterator(join_path(out, split), ec))
      if (entry.is_regular_file(ec) && std::regex_match(entry.path().filename().string(), ours))
        fs::remove(entry.path(), ec);
}

// Image i of the set (BGR) and its plates: a scene, or with --plates one plate's close-up.
cv::Mat synthetic_image(const SynthOptions& options, const std::vector<std::string>& photos, size_t i,
                        std::vector<PlateBox>& boxes) {
  Random r(options.seed * 1000003ull + static_cast<uint64_t>(i));
  cv::Mat image;
  if (options.plates) {
    const PlateRegion region = synthetic_plate_region(r, "", options.clean,
                                                      options.two_row ? RegionLayouts::TwoRow : RegionLayouts::All);
    cv::cvtColor(region.rgb, image, cv::COLOR_RGB2BGR);
    boxes = {{region.box, region.text}};
    return image;
  }
  static const cv::Size kSizes[] = {{640, 480}, {512, 384}, {800, 450}, {480, 480}, {640, 360}, {400, 300}};
  const cv::Size size = kSizes[uniform_int(r, 0, 5)];
  if (!photos.empty() && uniform_int(r, 0, 2) == 0)
    image = photo_background(r, photos[uniform_int(r, 0, static_cast<int>(photos.size()) - 1)], size);
  if (image.empty()) image = procedural_background(r, size);
  boxes = place_plates(r, image);
  photographic_effects(r, image);
  return image;
}

}  // namespace

SynthReport write_synthetic_plates(const SynthOptions& options) {
  if (options.out.empty()) throw Error("--out: give a folder");
  if (options.count < 3 || options.count > 1000000) throw Error("--count must be within 3..1000000");
  if (options.clean && !options.plates) throw Error("--clean: only with --plates (plate close-ups)");
  if (options.two_row && !options.plates) throw Error("--two-row: only with --plates (plate close-ups)");
  const int threads = resolve_threads(options.threads);
  SynthReport report;
  const char* splits[] = {"train", "validation", "test"};
  std::error_code ec;
  bool complete = true;
  for (const char* s : splits) complete &= fs::exists(join_path(options.out, std::string("sub-") + s + "-annotations-bbox.csv"), ec);
  const std::string stamp = join_path(options.out, "synth.json");
  // "plates": sets drawn by an earlier plate drawer (or before PlateText) are drawn again.
  const std::string kind = !options.plates ? ""
                           : std::string(", \"kind\": \"") + (options.clean ? "clean-" : "") +
                                 (options.two_row ? "two-row-" : "") + "plates\"";
  const std::string wanted = "{\"count\": " + std::to_string(options.count) + ", \"seed\": " +
                             std::to_string(options.seed) + ", \"plates\": 3" + kind + "}\n";
  if (complete && fs::exists(stamp, ec) && read_file(stamp) == wanted) {
    report.reused = true;
    for (int i = 0; i < options.count; ++i) {
      const std::string s = split_of(i);
      (s == "train" ? report.train_images : s == "validation" ? report.validation_images : report.test_images)++;
    }
    return report;
  }
  const std::vector<std::string> photos = decodable_photos(options.photo_dirs, options.photos_given);
  report.photos = static_cast<int>(photos.size());
  check_folder_makeable(options.out, "--out");
  prepare_out_folder(options.out, stamp);
  for (const char* s : splits) make_folder(join_path(options.out, s), "--out");
  write_file_atomic(stamp, "{\"writing\": true}\n");  // ours from the first image on, even if stopped

  std::vector<std::vector<PlateBox>> boxes(options.count);
  std::vector<cv::Size> sizes(options.count);
  auto draw = [&](size_t i) {
    const cv::Mat image = synthetic_image(options, photos, i, boxes[i]);
    sizes[i] = image.size();
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 92});
    write_file_atomic(join_path(join_path(options.out, split_of(i)), image_id(options.seed, i) + ".jpg"),
                      std::string(jpeg.begin(), jpeg.end()));
  };
  try {
    parallel_for(static_cast<size_t>(options.count), threads, draw);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // OpenCV's own, named as ours
    throw Error(e.what());
  }

  for (const char* s : splits) {
    std::string csv =
        "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside,"
        "id,ClassName,PlateText\n";
    for (int i = 0; i < options.count; ++i) {
      if (std::string(split_of(i)) != s) continue;
      (std::string(s) == "train" ? report.train_images : std::string(s) == "validation" ? report.validation_images
                                                                                        : report.test_images)++;
      for (const PlateBox& b : boxes[i]) {
        char row[256];
        std::snprintf(row, sizeof row, "%s,edgessd-synth,%s,1,%.6f,%.6f,%.6f,%.6f,0,0,0,0,0,%s,%s,%s\n",
                      image_id(options.seed, i).c_str(), kLabel, b.box.x1 / sizes[i].width, b.box.x2 / sizes[i].width,
                      b.box.y1 / sizes[i].height, b.box.y2 / sizes[i].height, kLabel, kClassName, b.text.c_str());
        csv += row;
        ++report.boxes;
      }
    }
    write_file_atomic(join_path(options.out, std::string("sub-") + s + "-annotations-bbox.csv"), csv);
  }
  write_file_atomic(stamp, wanted);
  return report;
}

}  // namespace edgessd
