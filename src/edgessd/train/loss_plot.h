#pragma once
#include <string>

namespace edgessd {

// Draws training and validation loss per epoch from a metrics.csv into a PNG.
void draw_loss_curve(const std::string& metrics_csv, const std::string& png_path);

}  // namespace edgessd
