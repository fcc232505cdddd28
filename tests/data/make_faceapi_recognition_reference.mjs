// Produces tests/data/faceapi_recognition_reference.json: the descriptor face-api's face
// recognition net itself (TF.js, cpu backend) computes for a fixed synthetic face, against which
// tests/test_face_recognition.py checks moodshift's PyTorch port and ONNX export.
//
// How it was run (Node 20; nothing is installed into the project), as for
// make_faceapi_reference.mjs:
//   mkdir -p /tmp/faref && cd /tmp/faref
//   npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz
//   npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
//   cd /work/main && NODE_PATH=/tmp/faref/node_modules \
//     node tests/data/make_faceapi_recognition_reference.mjs /tmp/faref/package \
//     > tests/data/faceapi_recognition_reference.json
//
// Input: a 150x150 RGB pattern (the network's own size, so face-api does not resize it),
// v(y, x, c) = (5x + 11y + 70c + 3 * ((x*y) % 31)) % 256.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const [pkgDir] = process.argv.slice(2);
const faceapi = require(path.join(pkgDir, 'dist', 'face-api.node-wasm.js'));
const { tf } = faceapi;
const SIZE = 150;

async function main() {
  await tf.setBackend('cpu'); await tf.ready();
  await faceapi.nets.faceRecognitionNet.loadFromDisk(path.join(pkgDir, 'model'));
  const v = new Float32Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) {
    v[(y * SIZE + x) * 3 + c] = (5 * x + 11 * y + 70 * c + 3 * ((x * y) % 31)) % 256;
  }
  const descriptor = Array.from(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(
    tf.tensor3d(v, [SIZE, SIZE, 3], 'float32')));
  const out = {
    produced_by: 'tests/data/make_faceapi_recognition_reference.mjs (see its header)',
    faceapi_version: faceapi.version, tfjs_backend: tf.getBackend(),
    size: SIZE, formula: '(5x + 11y + 70c + 3*((x*y) % 31)) % 256',
    descriptor,
  };
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
}

main();
