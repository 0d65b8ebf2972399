// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node) on a raw float32 input and
// writes each output as raw float32: node ort_run.js MODEL INPUT.f32 OUT_PREFIX [HEIGHT WIDTH]
// (the input's size, 300x300 unless given)
// Prints the output names and shapes, one per line.
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inputPath, prefix, height, width] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const bytes = fs.readFileSync(inputPath);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const name = session.inputNames[0];
  const dims = [1, 3, Number(height || 300), Number(width || 300)];
  const feeds = {};
  feeds[name] = new ort.Tensor('float32', data, dims);
  const results = await session.run(feeds);
  for (const out of session.outputNames) {
    const t = results[out];
    fs.writeFileSync(`${prefix}.${out}.f32`, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    console.log(`${out} ${t.dims.join('x')}`);
  }
}

main().catch((e) => {
  console.error(`ort_run: ${e.message}`);
  process.exit(1);
});
