// The plate reader's training loop; see reader_trainer.h.
#include "edgessd/train/reader_trainer.h"

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "edgessd/common/checkpoint_name.h"
#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/common/image.h"
#include "edgessd/common/logging.h"
#include "edgessd/common/parallel.h"
#include "edgessd/common/progress.h"
#include "edgessd/common/random.h"
#include "edgessd/data/plate_samples.h"
#include "edgessd/plates/plate_crops.h"
#include "edgessd/plates/plate_faces.h"
#include "edgessd/plates/plate_render.h"
#include "edgessd/model/checkpoint.h"
#include "edgessd/model/plate_reader_net.h"
#include "edgessd/model/ssd.h"
#include "edgessd/train/training_run.h"
#include "edgessd/train/optimizer_state.h"
#include "edgessd/train/run_files.h"
#include "edgessd/train/weight_average.h"

namespace edgessd {

namespace {

namespace F = torch::nn::functional;

// A plate with some context around it, decoded once: augmentation crops from here.
struct CachedPlate {
  cv::Mat region;  // RGB
  CornerBox box;   // pixels of `region`
  std::string text;
  std::vector<cv::Point2f> centres;  // of the text's characters in `region`: synthetic plates only
};

// Each image decoded once; regions hold the box plus 30% of its size on each side,
// scaled down so that the box is at most twice the reader's input width.
std::vector<CachedPlate> cache_plates(const std::vector<PlateSample>& samples, const ReaderInfo& info, int threads) {
  std::map<std::string, std::vector<size_t>> by_image;
  for (size_t i = 0; i < samples.size(); ++i) by_image[samples[i].image_path].push_back(i);
  std::vector<const std::pair<const std::string, std::vector<size_t>>*> images;
  for (const auto& entry : by_image) images.push_back(&entry);
  std::vector<CachedPlate> plates(samples.size());
  parallel_for(images.size(), threads, [&](size_t i) {
    const cv::Mat rgb = read_rgb_image(images[i]->first);
    for (size_t s : images[i]->second) {
      const CornerBox& b = samples[s].box;
      const CornerBox px = in_pixels(b, rgb);
      ReaderInfo wide = info;
      wide.crop_margin = 0.3f;
      const cv::Rect r = plate_crop_rect(px, wide, rgb.cols, rgb.rows);
      const double scale = std::min(1.0, 2.0 * info.input_width / std::max(1.0f, px.x2 - px.x1));
      CachedPlate& p = plates[s];
      cv::resize(rgb(r), p.region, cv::Size(), scale, scale, cv::INTER_AREA);
      if (p.region.empty()) p.region = rgb(r).clone();
      const float sx = static_cast<float>(p.region.cols) / r.width, sy = static_cast<float>(p.region.rows) / r.height;
      p.box = {(px.x1 - r.x) * sx, (px.y1 - r.y) * sy, (px.x2 - r.x) * sx, (px.y2 - r.y) * sy};
      p.text = samples[s].text;
    }
  });
  return plates;
}

struct Batch {
  torch::Tensor images, targets, target_lengths;
  torch::Tensor columns;  // (N, T): the class whose character's middle falls in that output column, else -100
  bool any_column = false;
  std::vector<std::string> texts;
};

// The output column over each character's middle (crop pixels), labelled with its class;
// a column two characters fall in, or a character outside the crop, stays unlabelled.
void label_columns(const std::vector<cv::Point2f>& middles, const std::string& text, const ReaderInfo& info,
                   int64_t* row, int64_t columns) {
  if (middles.size() != text.size()) return;
  for (size_t k = 0; k < text.size(); ++k) {
    const double x = middles[k].x;
    if (!(x >= 0 && x < info.input_width)) continue;
    const int64_t t = std::min<int64_t>(columns - 1, static_cast<int64_t>(x * columns / info.input_width));
    row[t] = row[t] == -100 ? static_cast<int64_t>(info.charset.find(text[k])) + 1 : -101;
  }
  for (int64_t t = 0; t < columns; ++t)
    if (row[t] == -101) row[t] = -100;
}

Batch make_batch(const std::vector<CachedPlate>& plates, const std::vector<size_t>& order, size_t begin, size_t end,
                 const ReaderInfo& info, const uint64_t* augment_seed, int threads, float box_jitter = 0) {
  const int64_t n = static_cast<int64_t>(end - begin);
  const int64_t plane = int64_t{3} * info.input_height * info.input_width;
  Batch b;
  b.images = torch::empty({n, 3, info.input_height, info.input_width});
  const int64_t columns = reader_columns(info.input_width);
  b.columns = torch::full({n, columns}, -100, torch::kLong);
  float* data = b.images.data_ptr<float>();
  parallel_for(static_cast<size_t>(n), threads, [&](size_t i) {
    const CachedPlate& p = plates[order[begin + i]];
    cv::Mat crop;
    if (augment_seed) {
      Random r(mix_seed(*augment_seed, begin + i, order[begin + i]));
      std::vector<cv::Point2f> middles = p.centres;
      crop = augmented_plate_crop(p.region, p.box, info, r, &middles, box_jitter);
      label_columns(middles, p.text, info, b.columns.data_ptr<int64_t>() + static_cast<int64_t>(i) * columns, columns);
    } else {
      crop = crop_plate(p.region, p.box, info);
    }
    reader_input(crop, info, data + static_cast<int64_t>(i) * plane);
  });
  std::vector<int64_t> targets, lengths;
  for (size_t i = begin; i < end; ++i) {
    const std::string& text = plates[order[i]].text;
    for (char c : text) targets.push_back(static_cast<int64_t>(info.charset.find(c)) + 1);
    lengths.push_back(static_cast<int64_t>(text.size()));
    b.texts.push_back(text);
  }
  b.targets = torch::tensor(targets, torch::kLong);
  b.target_lengths = torch::tensor(lengths, torch::kLong);
  b.any_column = (b.columns >= 0).any().item<bool>();
  return b;
}

// CTC over the logits (N, C, T), averaged over the batch (each plate's loss divided by
// its length, as PyTorch's 'mean'); an unreachable target counts 0 rather than infinity.
torch::Tensor ctc_loss_of(const torch::Tensor& logits, const Batch& b) {
  const torch::Tensor log_probs = torch::log_softmax(logits, 1).permute({2, 0, 1});
  const torch::Tensor input_lengths = torch::full({logits.size(0)}, logits.size(2), torch::kLong);
  return F::ctc_loss(log_probs, b.targets, input_lengths, b.target_lengths,
                     F::CTCLossFuncOptions().reduction(torch::kMean).zero_infinity(true));
}

// Where CTC must find the characters by itself (and sits on its all-blank plateau until it
// does), synthetic plates can say where they are: cross-entropy at the column over each
// character's middle.
torch::Tensor column_loss_of(const torch::Tensor& logits, const Batch& b) {
  return F::cross_entropy(logits, b.columns, F::CrossEntropyFuncOptions().ignore_index(-100));
}

struct ReaderEpoch {
  int epoch = 0;
  double train_loss = 0, lr = 0, crops_per_second = 0, seconds = 0;
  double val_loss = -1, val_exact = -1, val_character = -1;
};

struct ReaderData {
  std::vector<CachedPlate> all_train;  // every --data's plates, one after the other
  std::vector<size_t> offsets, sizes;  // of each --data's plates in all_train
  std::vector<CachedPlate> validation;
};

}  // namespace

namespace {

void check_options(const ReaderTrainOptions& o) {
  if (o.data.empty()) throw Error("--data: give at least one data set with a PlateText column");
  if (o.epochs < 1 || o.epochs > 100000) throw Error("--num-epochs must be within 1..100000");
  if (o.synth_plates < 0 || o.synth_plates > 1000000) throw Error("--synth-plates must be within 0..1000000");
  if (!(o.real_share >= 0 && o.real_share <= 0.95)) throw Error("--real-share must be within 0..0.95");
  if (!(o.column_loss >= 0 && o.column_loss <= 100)) throw Error("--column-loss must be within 0..100");
  if (!(o.two_row_aspect >= 0 && o.two_row_aspect <= 3)) throw Error("--two-row-aspect must be within 0..3");
  if (!valid_reader_width(o.input_width))
    throw Error("--input-width " + std::to_string(o.input_width) + ": expected a multiple of 4 within 64..256");
  check_reader_geometry(o.geometry, "--geometry");
  if (!(o.box_jitter >= 0 && o.box_jitter <= 0.3)) throw Error("--box-jitter must be within 0..0.3");
  if (!(o.ema >= 0 && o.ema <= 0.9999)) throw Error("--ema must be within 0..0.9999");
  if (o.batch_size < 1 || o.batch_size > 4096) throw Error("--batch-size must be within 1..4096");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) throw Error("--lr must be a positive number");
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) throw Error("--weight-decay must be 0 or more");
  if (!o.charset.empty()) check_charset(o.charset, "--charset");
  resolve_threads(o.threads);
}

DetectionDataset read_split(const std::string& root, const std::string& split) {
  DatasetOptions options;  // every class: a plate reader reads whatever box carries a text
  return read_open_images(root, split, options);
}

// 0-9 A-Z plus every other printable character of the training texts.
std::string charset_from(const std::vector<DetectionDataset>& sets) {
  std::vector<std::string> texts = {ReaderInfo().charset};
  for (const auto& set : sets)
    for (const auto& image : set.images)
      for (const auto& text : image.texts) {
        std::string kept;
        for (char c : normalise_plate_text(text))
          if (c > ' ' && c < 0x7f) kept += c;
        texts.push_back(kept);
      }
  return charset_of(texts);
}

std::vector<CachedPlate> plates_of(const DetectionDataset& set, const ReaderInfo& info, int threads) {
  const PlateSamples s = plate_samples(set, info.charset, reader_columns(info.input_width));
  if (s.outside_count > 0)
    log_warning(set.description + ": " + std::to_string(s.outside_count) + " plate texts have characters outside the "
                "reader's set (" + info.charset + "), first '" + s.outside_charset + "'; those plates are left out");
  if (s.without_text > 0)
    log_warning(set.description + ": " + std::to_string(s.without_text) + " boxes have no PlateText; left out");
  if (s.too_long_count > 0)
    log_warning(set.description + ": " + std::to_string(s.too_long_count) + " plate texts are longer than the reader's " +
                std::to_string(reader_columns(info.input_width)) + " output columns can hold, first '" +
                s.too_long.substr(0, 40) + (s.too_long.size() > 40 ? "...'" : "'") + "; those plates are left out");
  return cache_plates(s.samples, info, threads);
}

ReaderData load_reader_data(const ReaderTrainOptions& o, ReaderInfo& info, int threads) {
  std::vector<DetectionDataset> train_sets;
  for (const auto& root : o.data) train_sets.push_back(read_split(root, "train"));
  if (info.charset.empty()) info.charset = o.charset.empty() ? charset_from(train_sets) : o.charset;
  ReaderData d;
  for (size_t i = 0; i < train_sets.size(); ++i) {
    const std::vector<CachedPlate> plates = plates_of(train_sets[i], info, threads);
    if (plates.empty()) throw Error(o.data[i] + ": its train split has no plate with a usable PlateText");
    log_info("Training: " + train_sets[i].description + ", " + std::to_string(plates.size()) + " plates");
    d.offsets.push_back(d.all_train.size());
    d.sizes.push_back(plates.size());
    d.all_train.insert(d.all_train.end(), plates.begin(), plates.end());
  }
  for (const auto& root : o.data)
    if (has_split(DatasetType::OpenImages, root, "validation")) {
      const DetectionDataset set = read_split(root, "validation");
      d.validation = plates_of(set, info, threads);
      log_info("Validation: " + set.description + ", " + std::to_string(d.validation.size()) + " plates");
      break;
    }
  if (d.validation.empty()) log_warning("no --data has a validation split with plate texts: best.pth follows the training loss");
  return d;
}

}  // namespace

std::vector<size_t> real_crops_per_epoch(const std::vector<size_t>& sizes, const ReaderTrainOptions& o) {
  size_t largest = 0, sum = 0;
  for (size_t n : sizes) largest = std::max(largest, n);
  std::vector<size_t> counts;
  for (size_t n : sizes) counts.push_back(o.balance_data ? largest : n), sum += counts.back();
  if (o.real_share <= 0 || o.synth_plates <= 0 || sum == 0) return counts;
  const double wanted = o.synth_plates * o.real_share / (1 - o.real_share);
  for (size_t& c : counts) c = std::max<size_t>(1, static_cast<size_t>(std::lround(wanted * c / sum)));
  return counts;
}

namespace {

// The real crops (each set cycled through its shuffled plates) and this epoch's synthetic
// plates (the indices after all_train), shuffled together.
std::vector<size_t> epoch_order(const ReaderData& d, const ReaderTrainOptions& o, int epoch) {
  Random r(mix_seed(o.seed, static_cast<uint64_t>(epoch), 17));
  std::vector<size_t> order;
  const std::vector<size_t> counts = real_crops_per_epoch(d.sizes, o);
  for (size_t s = 0; s < d.sizes.size(); ++s) {
    const size_t n = d.sizes[s];
    std::vector<size_t> own(n);
    for (size_t i = 0; i < n; ++i) own[i] = d.offsets[s] + i;
    for (size_t i = 0; i < counts[s]; ++i) {
      if (i % n == 0) shuffle(own, r);
      order.push_back(own[i % n]);
    }
  }
  for (size_t i = 0; i < static_cast<size_t>(o.synth_plates); ++i) order.push_back(d.all_train.size() + i);
  shuffle(order, r);
  return order;
}

// A linear warm-up over the first steps (at most 200), then the cosine over the rest.
double reader_lr(double base, size_t step, size_t total) {
  const size_t warmup = std::min<size_t>(200, total / 10);
  if (step < warmup) return base * (step + 1) / warmup;
  return cosine_lr(base, double(step - warmup), double(std::max<size_t>(1, total - warmup)));
}

void set_adam_lr(torch::optim::Adam& adam, double lr) {
  for (auto& group : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

}  // namespace

namespace {

// --data's plates followed by this epoch's synthetic ones, drawn from (seed, epoch) alone.
std::vector<CachedPlate> epoch_plates(const ReaderData& d, const ReaderInfo& info, const ReaderTrainOptions& o, int epoch,
                                      int threads) {
  std::vector<CachedPlate> plates = d.all_train;
  plates.resize(d.all_train.size() + static_cast<size_t>(o.synth_plates));
  parallel_for(static_cast<size_t>(o.synth_plates), threads, [&](size_t i) {
    Random r(mix_seed(o.seed ^ 0x5e7a11, static_cast<uint64_t>(epoch), i));
    PlateRegion region = synthetic_plate_region(r, info.charset, o.synth_clean);
    plates[d.all_train.size() + i] = {region.rgb, region.box, region.text, region.centres};
  });
  return plates;
}

double train_epoch(PlateReaderNet& net, torch::optim::Adam& adam, WeightAverage* average, const ReaderData& d,
                   const ReaderInfo& info, const ReaderTrainOptions& o, int epoch, int threads, ReaderEpoch& m) {
  net->train();
  const std::vector<CachedPlate> plates = epoch_plates(d, info, o, epoch, threads);
  const std::vector<size_t> order = epoch_order(d, o, epoch);
  const size_t steps = (order.size() + o.batch_size - 1) / o.batch_size;
  const size_t total_steps = steps * static_cast<size_t>(o.epochs);
  Progress progress("Epoch " + std::to_string(epoch) + ", step", steps, 50);
  double sum = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t step = 0; step < steps; ++step) {
    const size_t begin = step * o.batch_size, end = std::min(order.size(), begin + o.batch_size);
    const uint64_t seed = mix_seed(o.seed, static_cast<uint64_t>(epoch), step);
    const Batch b = make_batch(plates, order, begin, end, info, &seed, threads, static_cast<float>(o.box_jitter));
    m.lr = reader_lr(o.lr, static_cast<size_t>(epoch) * steps + step, total_steps);
    set_adam_lr(adam, m.lr);
    adam.zero_grad();
    const torch::Tensor logits = net->forward(b.images);
    torch::Tensor loss = ctc_loss_of(logits, b);
    if (o.column_loss > 0 && b.any_column) loss = loss + o.column_loss * column_loss_of(logits, b);
    loss.backward();
    adam.step();
    if (average) average->update();
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw Error("epoch " + std::to_string(epoch) + ": the CTC loss is not finite; try a lower --lr");
    sum += value;
    std::ostringstream status;
    status.precision(4);
    status << "loss " << sum / (step + 1);
    progress.update(step + 1, status.str(), end);
  }
  progress.finish();
  m.seconds = ms_since(start) / 1000;
  m.crops_per_second = order.size() / std::max(1e-9, m.seconds);
  return m.train_loss = sum / std::max<size_t>(1, steps);
}

void validate(PlateReaderNet& net, const std::vector<CachedPlate>& plates, const ReaderInfo& info, int threads,
              ReaderEpoch& m) {
  if (plates.empty()) return;
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<size_t> order(plates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  ReadingScore score;
  double loss = 0;
  for (size_t begin = 0; begin < order.size(); begin += 128) {
    const size_t end = std::min(order.size(), begin + 128);
    const Batch b = make_batch(plates, order, begin, end, info, nullptr, threads);
    const torch::Tensor logits = net->forward(b.images);
    loss += ctc_loss_of(logits, b).item<double>() * (end - begin);
    const torch::Tensor probs = torch::softmax(logits, 1).transpose(1, 2).contiguous();
    for (size_t i = 0; i < end - begin; ++i)
      score.add(ctc_greedy_decode(probs[static_cast<int64_t>(i)].data_ptr<float>(), probs.size(1), info.charset),
                b.texts[i]);
  }
  m.val_loss = loss / plates.size();
  m.val_exact = score.exact_accuracy();
  m.val_character = score.character_accuracy();
}

constexpr const char* kReaderMetricsHeader = "epoch,train_loss,val_loss,val_exact,val_character,lr,crops_per_second,seconds";

std::string reader_metrics_row(const ReaderEpoch& m) {
  std::ostringstream row;
  row.precision(6);
  row << m.epoch << "," << m.train_loss << ",";
  if (m.val_loss >= 0) row << m.val_loss << "," << m.val_exact << "," << m.val_character;
  else row << ",,";
  row << "," << m.lr << "," << m.crops_per_second << "," << m.seconds;
  return row.str();
}

void save_reader_checkpoint(const std::string& path, const ReaderInfo& info, PlateReaderNet& net,
                            const torch::optim::Adam& adam, const ReaderEpoch& m) {
  const double loss = m.val_loss >= 0 ? m.val_loss : m.train_loss;
  write_state_dict(path, state_dict_of(*net));
  save_adam_state(adam, optimizer_path(path));
  save_reader_info(path, info, m.epoch, loss, m.val_exact, m.val_character);
}

}  // namespace

namespace {

// What best.pth is chosen by, higher is better: validation exact plates, ties (every
// epoch at 0% early on) broken by character accuracy; without validation, -training loss.
double selection_score(double val_exact, double val_character, double train_loss, bool validated) {
  return validated ? val_exact + 1e-3 * std::max(0.0, val_character) : -train_loss;
}

std::string epoch_line(const ReaderEpoch& m) {
  std::ostringstream line;
  line.precision(4);
  line << "Epoch: " << m.epoch << ", Training Loss: " << m.train_loss;
  if (m.val_loss >= 0)
    line << ", Validation Loss: " << m.val_loss << ", Validation exact plates: " << 100 * m.val_exact
         << "%, characters: " << 100 * m.val_character << "%";
  line << ", " << static_cast<int>(m.crops_per_second) << " crops/s";
  return line.str();
}

}  // namespace

ReaderTrainResult train_reader(const ReaderTrainOptions& o) {
  check_options(o);
  const int threads = resolve_threads(o.threads);
  set_torch_threads(threads);
  torch::manual_seed(o.seed);
  ReaderInfo info;
  info.charset.clear();
  info.two_row_aspect = static_cast<float>(o.two_row_aspect);  // a resumed run keeps its own, and its input
  info.input_width = o.input_width;
  info.geometry = o.geometry;
  int start_epoch = 0;
  StateDict resumed;
  if (!o.resume.empty()) {
    check_readable_file(o.resume);
    if (!load_reader_info(o.resume, info))
      throw Error("--resume " + o.resume + ": no plate reader JSON beside it, so the epoch to resume is unknown");
    if (!o.charset.empty() && o.charset != info.charset)
      throw Error("--charset " + o.charset + " differs from --resume's (" + info.charset + ")");
    start_epoch = load_reader_training_state(o.resume).epoch + 1;
    resumed = read_state_dict(o.resume);
  }
  check_folder_makeable(o.model_dir, "--model-dir");
  const ReaderData data = load_reader_data(o, info, threads);
  if (o.synth_plates > 0) {  // a character set with nothing to draw fails here, before any folder
    Random probe(o.seed);
    try {
      random_registration(probe, info.charset, nullptr);
    } catch (const Error& e) {
      throw Error(std::string("--synth-plates: ") + e.what());
    }
  }
  if (o.synth_plates > 0 && installed_plate_faces().empty())
    log_warning("no TrueType plate face is installed (scripts/setup.sh installs fonts-liberation, fonts-urw-base35, "
                "fonts-roboto-unhinted, fonts-dejavu-core, fonts-dejavu-extra, fonts-b612): the synthetic plates are "
                "drawn in stroke faces, which read real plates poorly");
  const NewFolderGuard made(o.model_dir);
  make_folder(o.model_dir, "--model-dir");  // once the data is known to be usable
  info.source = "edgessd train-reader on " + o.data.front();
  log_info("Character set (" + std::to_string(info.charset.size()) + "): " + info.charset);
  PlateReaderNet net(info.num_classes());
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  if (!o.resume.empty()) {
    load_state_dict(*net, resumed, LoadMode::Everything, o.resume);
    std::error_code ec;
    if (std::filesystem::exists(optimizer_path(o.resume), ec)) load_adam_state(adam, optimizer_path(o.resume));
    log_info("Resume from the model " + o.resume + " at epoch " + std::to_string(start_epoch));
  }
  std::optional<WeightAverage> ema;
  if (o.ema > 0) ema.emplace(*net, o.ema);
  WeightAverage* const average = ema ? &*ema : nullptr;  // --ema's, or null
  const bool validated = !data.validation.empty();
  TrainingRun run(o.model_dir, kReaderNetName, kReaderMetricsHeader, -1e300,
                  validated ? "validation exact plates (characters break ties)" : "negated training loss");
  run.prepare(start_epoch, [&](const std::string& best) {
    const ReaderTrainingState s = load_reader_training_state(best);
    return selection_score(s.val_exact, s.val_character, s.val_loss, validated);
  });
  ReaderTrainResult result;
  run.run(start_epoch, o.epochs, [&](int epoch) {
    ReaderEpoch m;
    m.epoch = epoch;
    train_epoch(net, adam, average, data, info, o, epoch, threads, m);
    const AveragedWeights averaged(average);  // validated and saved: the average
    validate(net, data.validation, info, threads, m);
    log_info(epoch_line(m));
    const double score = selection_score(m.val_exact, m.val_character, m.train_loss, validated);
    if (score > run.best_score() && validated) result.best_val_exact = m.val_exact;
    run.checkpoint(epoch, m.val_loss >= 0 ? m.val_loss : m.train_loss, score,
                   [&](const std::string& path) { save_reader_checkpoint(path, info, net, adam, m); });
    ++result.epochs_run;
    return reader_metrics_row(m);
  });
  result.best_checkpoint = run.best_path();
  return result;
}

}  // namespace edgessd
