// ONNX Runtime (npm onnxruntime-node 1.17) on the same fixed-input timing as `edgessd bench`:
// node bench/ort_bench.js MODEL.onnx THREADS RUNS [HEIGHT WIDTH]   (300x300 unless given)
// Prints peak_rss_mb=<z> runs=<n>, then engine=onnxruntime threads=<n> min_ms=<x> median_ms=<y>
const ort = require('onnxruntime-node');

async function main() {
  const [model, threadsArg, runsArg, heightArg, widthArg] = process.argv.slice(2);
  const height = parseInt(heightArg || '300', 10), width = parseInt(widthArg || '300', 10);
  const threads = parseInt(threadsArg || '2', 10);
  const runs = parseInt(runsArg || '30', 10);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const meta = session.inputNames[0];
  const size = 3 * height * width;
  const data = new Float32Array(size);
  let seed = 7;
  for (let i = 0; i < size; ++i) { seed = (seed * 1103515245 + 12345) % 2147483648; data[i] = (seed / 2147483648) * 2 - 1; }
  const feeds = {};
  feeds[meta] = new ort.Tensor('float32', data, [1, 3, height, width]);
  for (let i = 0; i < 5; ++i) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < runs; ++i) {
    const t = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const median = ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(`peak_rss_mb=${rss.toFixed(1)} runs=${runs}`);
  console.log(`engine=onnxruntime threads=${threads} min_ms=${ms[0].toFixed(3)} median_ms=${median.toFixed(3)}`);
}

main().catch((e) => { console.error(`ort_bench: ${e.message}`); process.exit(1); });
