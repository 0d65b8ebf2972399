// A 1280x720 test video for detect + track + read: each photo of a folder scaled to
// cover 1400x790 and panned under a 1280x720 window for FRAMES frames (25 fps, MJPG), so
// each plate stays in view, moving, as a tracker expects.
//
//   build/bench/make_pan_video PHOTO_DIR OUT.avi [FRAMES]      (default 20)
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdio>
#include <cstdlib>

#include "edgessd/common/files.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_pan_video PHOTO_DIR OUT.avi [FRAMES]\n");
    return 2;
  }
  const int frames = argc > 3 ? std::max(2, std::atoi(argv[3])) : 20;
  cv::VideoWriter out(argv[2], cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25, cv::Size(1280, 720));
  if (!out.isOpened()) {
    std::fprintf(stderr, "make_pan_video: cannot write %s\n", argv[2]);
    return 1;
  }
  int written = 0;
  for (const std::string& path : edgessd::list_images(argv[1])) {
    const cv::Mat photo = cv::imread(path);
    if (photo.empty()) continue;
    const double scale = std::max(1400.0 / photo.cols, 790.0 / photo.rows);
    cv::Mat big;
    cv::resize(photo, big, cv::Size(), scale, scale, cv::INTER_LINEAR);
    for (int f = 0; f < frames; ++f) {
      const int x = (big.cols - 1280) * f / (frames - 1), y = (big.rows - 720) * f / (frames - 1);
      out.write(big(cv::Rect(x, y, 1280, 720)));
      ++written;
    }
  }
  std::printf("%d frames\n", written);
  return written > 0 ? 0 : 1;
}
