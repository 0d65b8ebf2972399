// XNNPACK (Debian's libxnnpack-dev, the engine under TFLite) on the convolutions of
// mb1-ssd-relu6 at 300x300 (all 47, NHWC, ReLU6 fused, batch 1): the measurement behind
// choosing oneDNN for the CPU engine. Compare with `edgessd bench --engine onednn`, which
// times the whole network. Usage: bench/xnnpack_convs [THREADS] [RUNS]   (2, 40)
#include <xnnpack.h>
#include <pthreadpool.h>
#include <chrono>
#include <cstdio>
#include <vector>
#include <algorithm>
struct L { int h, ic, oc, k, s, g; };
int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  int runs = argc > 2 ? std::max(1, atoi(argv[2])) : 40;
  std::vector<L> layers = {{300,3,32,3,2,1}};
  auto dwpw = [&](int h, int ic, int oc, int s) { layers.push_back({h, ic, ic, 3, s, ic}); int oh = (h + 2 - 3) / s + 1; layers.push_back({oh, ic, oc, 1, 1, 1}); };
  dwpw(150,32,64,1); dwpw(150,64,128,2); dwpw(75,128,128,1); dwpw(75,128,256,2); dwpw(38,256,256,1); dwpw(38,256,512,2);
  for (int i=0;i<5;i++) dwpw(19,512,512,1);
  dwpw(19,512,1024,2); dwpw(10,1024,1024,1);
  int eh[4]={10,5,3,2}, eic[4]={1024,512,256,256}, emid[4]={256,128,128,128}, eoc[4]={512,256,256,256};
  for (int i=0;i<4;i++){ layers.push_back({eh[i],eic[i],emid[i],1,1,1}); layers.push_back({eh[i],emid[i],eoc[i],3,2,1}); }
  int hh[6]={19,10,5,3,2,1}, hc[6]={512,1024,512,256,256,256};
  for (int i=0;i<6;i++){ layers.push_back({hh[i],hc[i],12,3,1,1}); layers.push_back({hh[i],hc[i],24,3,1,1}); }
  xnn_initialize(nullptr);
  pthreadpool_t pool = pthreadpool_create(threads);
  std::vector<xnn_operator_t> ops; std::vector<std::vector<float>> ins, outs, ws, bs;
  for (auto& l : layers) {
    int pad = l.k / 2; int oh = (l.h + 2*pad - l.k) / l.s + 1;
    ws.emplace_back((size_t)l.oc * (l.ic / l.g) * l.k * l.k, 0.01f); bs.emplace_back(l.oc, 0.0f);
    ins.emplace_back((size_t)l.h * l.h * l.ic, 0.5f); outs.emplace_back((size_t)oh * oh * l.oc);
    xnn_operator_t op = nullptr;
    auto st = xnn_create_convolution2d_nhwc_f32(pad,pad,pad,pad,l.k,l.k,l.s,l.s,1,1,l.g,l.ic/l.g,l.oc/l.g,l.ic,l.oc,ws.back().data(),bs.back().data(),0.0f,6.0f,0,&op);
    if (st != xnn_status_success) { printf("create failed %d\n", st); return 1; }
    st = xnn_setup_convolution2d_nhwc_f32(op, 1, l.h, l.h, ins.back().data(), outs.back().data(), pool);
    if (st != xnn_status_success) { printf("setup failed\n"); return 1; }
    ops.push_back(op);
  }
  std::vector<double> t;
  for (int r = 0; r < runs; r++) { auto a = std::chrono::steady_clock::now(); for (auto op : ops) xnn_run_operator(op, pool); t.push_back(std::chrono::duration<double,std::milli>(std::chrono::steady_clock::now()-a).count()); }
  std::sort(t.begin()+0, t.end());
  printf("xnnpack %zu convs, threads %d: min %.3f median %.3f ms\n", layers.size(), threads, t[0], t[runs / 2]);
}
