#pragma once
// TrueType faces for synthetic plates, rendered with FreeType from Debian's font packages
// (scripts/setup.sh installs them). Real plates use narrow sans faces (US states'
// "Penitentiary Gothic", DIN 1451 and FE-Schrift in Europe and on Mercosur plates); the
// closest free faces are listed by the style they stand in for. Stroke faces (Hershey)
// drew the reader's first synthetic plates and read real plates poorly.
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace edgessd {

enum class FaceStyle {
  Narrow,  // condensed grotesques: US plates, Brazil's grey plates
  Din,     // DIN-like, even strokes: EU and Mercosur plates
  Any,     // other sans faces, for variety
};

struct PlateFace {
  std::string path;
  FaceStyle style;
};

// The listed faces that are installed, looked up once; empty when none is (then plates
// are drawn with stroke faces) or the build has no FreeType.
const std::vector<PlateFace>& installed_plate_faces();
// Faces of `style` among them, or all of them when none has that style.
std::vector<const PlateFace*> faces_of_style(FaceStyle style);

// One character of `face` at `em` pixels: coverage (CV_8U, 255 = ink) cropped to its ink,
// and where that crop sits: `top` rows above the baseline. Empty when the face has no
// such glyph. Thread-safe (each thread keeps its own FreeType state).
struct Glyph {
  cv::Mat coverage;
  int top = 0;
};
Glyph render_glyph(const PlateFace& face, char c, int em);

}  // namespace edgessd
