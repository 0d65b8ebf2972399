// TrueType faces for synthetic plates; see plate_faces.h.
#include "edgessd/plates/plate_faces.h"

#include <filesystem>
#include <map>
#include <tuple>

#ifdef EDGESSD_HAVE_FREETYPE
#include <ft2build.h>
#include FT_FREETYPE_H
#endif

namespace edgessd {

namespace {

// Under /usr/share/fonts: fonts-liberation, fonts-urw-base35, fonts-roboto-unhinted,
// fonts-dejavu-core/-extra, fonts-b612.
const std::pair<const char*, FaceStyle> kFaces[] = {
    {"truetype/liberation/LiberationSansNarrow-Bold.ttf", FaceStyle::Narrow},
    {"opentype/urw-base35/NimbusSansNarrow-Bold.otf", FaceStyle::Narrow},
    {"truetype/roboto/unhinted/RobotoCondensed-Bold.ttf", FaceStyle::Narrow},
    {"truetype/roboto/unhinted/RobotoCondensed-Medium.ttf", FaceStyle::Narrow},
    {"truetype/dejavu/DejaVuSansCondensed-Bold.ttf", FaceStyle::Din},
    {"opentype/b612/B612-Bold.otf", FaceStyle::Din},
    {"opentype/b612/B612-Regular.otf", FaceStyle::Din},
    {"truetype/roboto/unhinted/RobotoCondensed-Regular.ttf", FaceStyle::Din},
    {"truetype/dejavu/DejaVuSans-Bold.ttf", FaceStyle::Any},
    {"truetype/liberation/LiberationSans-Bold.ttf", FaceStyle::Any},
    {"opentype/urw-base35/NimbusSans-Bold.otf", FaceStyle::Any},
    {"truetype/dejavu/DejaVuSansMono-Bold.ttf", FaceStyle::Any},
};
constexpr const char* kFontRoot = "/usr/share/fonts/";

#ifdef EDGESSD_HAVE_FREETYPE
// One FreeType library per thread (FreeType objects are not shared between threads), its
// faces opened once, and the glyphs it rendered.
class ThreadFonts {
 public:
  ThreadFonts() {
    if (FT_Init_FreeType(&library_) != 0) library_ = nullptr;
  }
  ~ThreadFonts() {
    for (auto& [path, face] : faces_)
      if (face) FT_Done_Face(face);
    if (library_) FT_Done_FreeType(library_);
  }
  ThreadFonts(const ThreadFonts&) = delete;
  ThreadFonts& operator=(const ThreadFonts&) = delete;

  const Glyph& glyph(const std::string& path, char c, int em) {
    const auto key = std::make_tuple(path, c, em);
    auto it = glyphs_.find(key);
    if (it == glyphs_.end()) it = glyphs_.emplace(key, render(path, c, em)).first;
    return it->second;
  }

 private:
  FT_Face face(const std::string& path) {
    auto it = faces_.find(path);
    if (it != faces_.end()) return it->second;
    FT_Face f = nullptr;
    if (!library_ || FT_New_Face(library_, path.c_str(), 0, &f) != 0) f = nullptr;
    return faces_[path] = f;
  }

  Glyph render(const std::string& path, char c, int em) {
    Glyph g;
    FT_Face f = face(path);
    if (!f || FT_Set_Pixel_Sizes(f, 0, static_cast<FT_UInt>(em)) != 0) return g;
    const FT_UInt index = FT_Get_Char_Index(f, static_cast<unsigned char>(c));
    if (index == 0 || FT_Load_Glyph(f, index, FT_LOAD_DEFAULT) != 0 ||
        FT_Render_Glyph(f->glyph, FT_RENDER_MODE_NORMAL) != 0)
      return g;
    const FT_Bitmap& b = f->glyph->bitmap;
    if (b.pixel_mode != FT_PIXEL_MODE_GRAY || b.rows == 0 || b.width == 0) return g;
    const cv::Mat view(static_cast<int>(b.rows), static_cast<int>(b.width), CV_8U, b.buffer,
                       static_cast<size_t>(b.pitch));
    g.coverage = view.clone();
    g.top = f->glyph->bitmap_top;
    return g;
  }

  FT_Library library_ = nullptr;
  std::map<std::string, FT_Face> faces_;
  std::map<std::tuple<std::string, char, int>, Glyph> glyphs_;
};
#endif

}  // namespace

const std::vector<PlateFace>& installed_plate_faces() {
  static const std::vector<PlateFace> faces = [] {
    std::vector<PlateFace> found;
#ifdef EDGESSD_HAVE_FREETYPE
    for (const auto& [relative, style] : kFaces) {
      const std::string path = std::string(kFontRoot) + relative;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) continue;
      PlateFace face{path, style};
      if (!render_glyph(face, '8', 40).coverage.empty()) found.push_back(face);
    }
#endif
    return found;
  }();
  return faces;
}

std::vector<const PlateFace*> faces_of_style(FaceStyle style) {
  std::vector<const PlateFace*> out, all;
  for (const PlateFace& f : installed_plate_faces()) {
    all.push_back(&f);
    if (f.style == style) out.push_back(&f);
  }
  return out.empty() ? all : out;
}

Glyph render_glyph(const PlateFace& face, char c, int em) {
#ifdef EDGESSD_HAVE_FREETYPE
  thread_local ThreadFonts fonts;
  return fonts.glyph(face.path, c, em);
#else
  (void)face, (void)c, (void)em;
  return {};
#endif
}

}  // namespace edgessd
