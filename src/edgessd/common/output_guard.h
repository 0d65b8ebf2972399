#pragma once
// The one rule every command applies to its outputs before any work: an output never
// destroys one of the command's own inputs.
#include <string>
#include <vector>

namespace edgessd {

// A path a command was given, with the flag that named it ("" for a positional argument).
struct NamedPath {
  std::string path, flag;
};

// Error naming both when `output` is the same file as an input file (whatever the path:
// links, "..", hard links; compared by device and inode), or lies inside an input folder
// (a data set, a folder of images), or is the same path as another output. Inputs that do
// not exist and empty paths are skipped (their own checks report them).
void check_outputs_apart(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);
// Only the last part: no two outputs on one path.
void check_outputs_distinct(const std::vector<NamedPath>& outputs);

// Error naming `flag` when two of `paths` are one file or folder (`--data D D` would
// train on D twice over).
void check_no_repeats(const std::vector<std::string>& paths, const std::string& flag);

// Error unless `path` ends in `extension` (".onnx", ".pth"): a model written over a CSV, an
// image or a JSON of the same name destroyed it.
void check_output_extension(const std::string& path, const std::string& flag, const std::string& extension,
                            const std::string& kind);

// A checkpoint and the model JSON beside it: the files a command reads when given one.
std::vector<NamedPath> checkpoint_inputs(const std::string& checkpoint, const std::string& flag);

}  // namespace edgessd
