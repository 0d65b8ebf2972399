#pragma once
// Levenshtein distance (insertions, deletions, substitutions all cost 1): the downloader's
// "did you mean" for class names and the plate reader's character accuracy.
#include <cstddef>
#include <string>

namespace edgessd {

size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace edgessd
