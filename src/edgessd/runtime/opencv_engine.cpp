#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include <thread>

#include "edgessd/common/error.h"
#include "edgessd/common/parallel.h"
#include "edgessd/runtime/engine.h"

namespace edgessd {

namespace {

// OpenCV's messages span lines and start with the source location; keep the reason.
std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n', text.find_first_not_of('\n')));
  const size_t error = line.find("error: ");
  if (error != std::string::npos) line = line.substr(error + 7);
  while (!line.empty() && (line.front() == '\n' || line.front() == ' ')) line.erase(0, 1);
  return line;
}

// OpenCV DNN: always there with OpenCV, so every model that loads anywhere loads here.
class OpenCvEngine : public InferenceEngine {
 public:
  OpenCvEngine(const OnnxGraph& model, int threads) : model_(model) {
    threads = resolve_threads(threads);
    cv::setNumThreads(threads);
    model_.bytes.reset();  // read once below; the engine keeps OpenCV's net only
    const std::string bytes = onnx_for_opencv(*model.bytes, model.path);
    try {
      net_ = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    } catch (const cv::Exception& e) {
      throw Error(model.path + ": OpenCV DNN cannot load it: " + first_line(e.what()));
    }
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  }

  std::string name() const override { return "opencv"; }

  void forward(const float* input, std::vector<Tensor>& outputs) override {
    const int dims[4] = {model_.batch_size, 3, model_.input_height, model_.input_width};
    cv::Mat blob(4, dims, CV_32F, const_cast<float*>(input));
    std::vector<cv::Mat> mats;
    try {
      net_.setInput(blob, model_.input_name);
      net_.forward(mats, model_.outputs);
    } catch (const cv::Exception& e) {
      throw Error(model_.path + ": OpenCV DNN failed to run it: " + first_line(e.what()));
    }
    outputs.resize(mats.size());
    for (size_t i = 0; i < mats.size(); ++i) {
      const cv::Mat m = mats[i].isContinuous() ? mats[i] : mats[i].clone();
      outputs[i].name = model_.outputs[i];
      outputs[i].shape.assign(m.size.p, m.size.p + m.dims);
      outputs[i].data.assign(m.ptr<float>(), m.ptr<float>() + m.total());
    }
  }

 private:
  OnnxGraph model_;
  cv::dnn::Net net_;
};

}  // namespace

std::unique_ptr<InferenceEngine> create_opencv_engine(const OnnxGraph& model, int threads) {
  return std::make_unique<OpenCvEngine>(model, threads);
}

double multiply_adds(const OnnxGraph& model) {
  if (!model.bytes) throw Error(model.path + ": the model's bytes were released before counting its operations");
  const std::string bytes = onnx_for_opencv(*model.bytes, model.path);
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    const cv::dnn::MatShape input = {model.batch_size, 3, model.input_height, model.input_width};
    std::vector<int> ids;
    std::vector<std::vector<cv::dnn::MatShape>> in_shapes, out_shapes;
    net.getLayersShapes(input, ids, in_shapes, out_shapes);
    double total = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const cv::Ptr<cv::dnn::Layer> layer = net.getLayer(ids[i]);
      if (layer->type != "Convolution" || layer->blobs.empty() || out_shapes[i].empty()) continue;
      // weights (Cout, Cin / group, kh, kw): each output value is Cin / group * kh * kw of them
      const cv::Mat& w = layer->blobs[0];
      double outputs = 1;
      for (int d : out_shapes[i][0]) outputs *= d;
      total += outputs * static_cast<double>(w.total() / w.size[0]);
    }
    return total;
  } catch (const cv::Exception& e) {
    throw Error(model.path + ": OpenCV DNN cannot count its operations: " + first_line(e.what()));
  }
}

}  // namespace edgessd
