// Produces tests/data/faceapi_reference.json: outputs of face-api itself (TF.js, cpu backend)
// on fixed inputs, against which tests/test_faceapi.py checks moodshift's PyTorch ports.
//
// How it was run (Node 20; nothing is installed into the project):
//   mkdir -p /tmp/faref && cd /tmp/faref
//   npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz
//   npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
//   cd /work/main && NODE_PATH=/tmp/faref/node_modules \
//     node tests/data/make_faceapi_reference.mjs /tmp/faref/package examples/astronaut.png \
//     > tests/data/faceapi_reference.json
//
// Inputs: (1) a synthetic 112x112 RGB pattern, v(y, x, c) = (7x + 3y + 85c + 5 * ((x*y) % 29)) % 256,
// fed to the expression and age/gender nets as a whole-image face; (2) the astronaut photo,
// columns CROP[2]..CROP[3] (a non-square image, so SSD's bottom/right padding is exercised),
// run through SSD (and the Tiny Face Detector at 416); each detected box is floored to integers (as face-api's own
// extractFaceTensors does) and that face crop goes through the expression and age/gender nets.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const [pkgDir, pngPath] = process.argv.slice(2);
const faceapi = require(path.join(pkgDir, 'dist', 'face-api.node-wasm.js'));
const { tf } = faceapi;
const CROP = [0, 512, 40, 440]; // y0, y1, x0, x1

function decodePng(file) { // 8-bit RGB/RGBA, non-interlaced: enough for the bundled photo
  const buf = fs.readFileSync(file);
  let pos = 8; let width = 0; let height = 0; let channels = 0; const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos); const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('only 8-bit non-interlaced PNG');
      channels = { 2: 3, 6: 4 }[data[9]];
      if (!channels) throw new Error('only RGB/RGBA PNG');
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat)); const stride = width * channels;
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]; const src = y * (stride + 1) + 1;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[y * stride + i - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= channels ? px[(y - 1) * stride + i - channels] : 0;
      let p = a + b - c; const pa = Math.abs(p - a); const pb = Math.abs(p - b); const pc = Math.abs(p - c);
      p = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
      const pred = [0, a, b, (a + b) >> 1, p][f];
      px[y * stride + i] = (raw[src + i] + pred) & 255;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let k = 0; k < width * height; k++) for (let c = 0; c < 3; c++) rgb[k * 3 + c] = px[k * channels + c];
  return { width, height, rgb };
}

function pattern(size) {
  const v = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
    v[(y * size + x) * 3 + c] = (7 * x + 3 * y + 85 * c + 5 * ((x * y) % 29)) % 256;
  }
  return tf.tensor3d(v, [size, size, 3], 'float32');
}

async function faceNets(face) {
  const expression = Array.from(await faceapi.nets.faceExpressionNet.forward(face).then((t) => t.data()));
  const { age, gender } = await faceapi.nets.ageGenderNet.forward(face);
  return { expression, age: (await age.data())[0], gender: Array.from(await gender.data()) };
}

async function main() {
  await tf.setBackend('cpu'); await tf.ready();
  const modelDir = path.join(pkgDir, 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
  await faceapi.nets.ageGenderNet.loadFromDisk(modelDir);

  const out = {
    produced_by: 'tests/data/make_faceapi_reference.mjs (see its header)',
    faceapi_version: faceapi.version, tfjs_backend: tf.getBackend(),
    expression_classes: ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'],
    gender_classes: ['male', 'female'],
    pattern: { size: 112, formula: '(7x + 3y + 85c + 5*((x*y) % 29)) % 256', ...(await faceNets(pattern(112))) },
  };

  const png = decodePng(pngPath);
  const full = tf.tensor3d(png.rgb, [png.height, png.width, 3], 'int32');
  const [y0, y1, x0, x1] = CROP;
  const img = tf.slice3d(full, [y0, x0, 0], [y1 - y0, x1 - x0, 3]);
  const { boxes, scores } = await faceapi.nets.ssdMobilenetv1.forward(img);
  const s = Array.from(await scores[0].data()); const b = await boxes[0].array();
  const top = s.map((v, i) => [v, i]).sort((p, q) => q[0] - p[0]).slice(0, 5);
  const dets = await faceapi.nets.ssdMobilenetv1.locateFaces(img, { minConfidence: 0.5 });
  const faces = [];
  for (const d of dets) {
    const box = d.box; const r = [Math.floor(box.x), Math.floor(box.y), Math.floor(box.width), Math.floor(box.height)];
    const [face] = await faceapi.extractFaceTensors(img, [new faceapi.Rect(...r)]);
    faces.push({ box_int: r, ...(await faceNets(face)) });
  }
  out.ssd = {
    image: path.basename(pngPath), crop_y0_y1_x0_x1: CROP,
    top_raw: top.map(([v, i]) => ({ anchor: i, score: v, box_ymin_xmin_ymax_xmax: b[i] })),
    detections: dets.map((d) => ({ box_xywh: [d.box.x, d.box.y, d.box.width, d.box.height], score: d.score })),
    faces,
  };
  const grid = await faceapi.nets.tinyFaceDetector.forward(img, 416).then((t) => t.array());
  const cells = [];
  grid[0].forEach((r, row) => r.forEach((v, col) => [0, 1, 2, 3, 4].forEach((a) => cells.push({ row, col, anchor: a, raw: v.slice(5 * a, 5 * a + 5) }))));
  cells.sort((p, q) => q.raw[4] - p.raw[4]);
  const tiny = await faceapi.nets.tinyFaceDetector.locateFaces(img, new faceapi.TinyFaceDetectorOptions());
  out.tiny = {
    input_size: 416, top_raw: cells.slice(0, 5),
    detections: tiny.map((d) => ({ box_xywh: [d.box.x, d.box.y, d.box.width, d.box.height], score: d.score })),
  };
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
}

main();
