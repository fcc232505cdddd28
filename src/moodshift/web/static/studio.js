// The studio page: photo -> analysis -> target and controls -> stylize (or an optimize job) ->
// before/after, the measured shift, downloads. Everything goes through the JSON API.
"use strict";
let info = null, source = null, previewUrl = null, afterUrl = null, jsonUrl = null;
let analysis = null, job = null, pad = {v: 0.5, a: 0.3};
const sliders = {};   // form field -> () => its value, or null when left on auto
const SVG = "http://www.w3.org/2000/svg";

function words(value, low, high) {
  return value > 0.15 ? high : value < -0.15 ? low : "neutral";
}

function fillEmotionSelect(select, chosen) {
  for (const e of info.emotions) select.append(el("option", {value: e, text: e, selected: e === chosen}));
}

// ---- photo ------------------------------------------------------------------------------
function choose(newSource, url) {
  source = newSource;
  if (previewUrl && previewUrl.startsWith("blob:")) URL.revokeObjectURL(previewUrl);
  previewUrl = url;
  analyze();
}

function formWithSource() {
  const form = new FormData();
  if (source.file) form.append("image", source.file, source.file.name);
  else form.append("example", source.example);
  return form;
}

async function analyze() {
  $("result").hidden = true;
  setStatus($("photo-status"), "Reading faces and mood\u2026");
  const r = await withProgress($("analyze-progress"),
                               api("/api/analyze", {method: "POST", body: formWithSource()}));
  if (!r.ok) {
    setStatus($("photo-status"), r.body.error, "error");
    $("analysis").hidden = $("controls").hidden = true;
    return;
  }
  analysis = r.body;
  setStatus($("photo-status"), analysis.image + ": " + analysis.width + "\u00d7" + analysis.height +
            " px, " + analysis.faces.length + " face(s)", "ok");
  showAnalysis();
}

function showAnalysis() {
  const img = $("photo-img");
  img.src = previewUrl;
  const box = $("photo");
  box.querySelectorAll(".facebox").forEach(b => b.remove());
  const list = $("faces");
  list.replaceChildren();
  analysis.faces.forEach((f, i) => {
    const [x, y, w, h] = f.box;
    const [top, p] = topOf(f.expression);
    const div = el("div", {class: "facebox", "data-face": i + 1});
    div.style.left = (100 * x / analysis.width) + "%";
    div.style.top = (100 * y / analysis.height) + "%";
    div.style.width = (100 * w / analysis.width) + "%";
    div.style.height = (100 * h / analysis.height) + "%";
    div.append(el("span", {text: (i + 1) + " " + top + " " + pct(p)}));
    box.append(div);
    const extra = f.age === null ? "" : " \u00b7 age " + Math.round(f.age) + " \u00b7 " + f.gender;
    list.append(el("li", {text: "Face " + (i + 1) + ": " + top + " " + pct(p) + extra}));
  });
  if (!analysis.faces.length) list.append(el("li", {text: "No faces found: the mood alone guides the style."}));
  const m = analysis.mood;
  $("mood").textContent = "Mood: valence " + signed(m.valence) + " (" +
    words(m.valence, "unpleasant", "pleasant") + "), arousal " + signed(m.arousal) + " (" +
    words(m.arousal, "calm", "excited") + "). Reads as " + analysis.dominant_emotion + ".";
  $("analysis").hidden = $("controls").hidden = false;
}

// ---- target -----------------------------------------------------------------------------
function mode() { return document.querySelector("input[name=mode]:checked").value; }

// A point on the valence-arousal plane as a blend of the (up to) three nearest emotions,
// weighted by inverse squared distance: the server turns blends into styles.
function padBlend() {
  const near = Object.entries(info.emotion_vad)
    .map(([e, c]) => [e, (c.valence - pad.v) ** 2 + (c.arousal - pad.a) ** 2])
    .sort((x, y) => x[1] - y[1]).slice(0, 3)
    .map(([e, d2]) => [e, 1 / (d2 + 0.01)]);
  const total = near.reduce((s, [, w]) => s + w, 0);
  return near.map(([e, w]) => [e, w / total]).filter(([, w]) => w >= 0.05)
    .map(([e, w]) => e + ":" + w.toFixed(2)).join(",");
}

function target() {
  const m = mode();
  if (m === "one") return $("emotion").value;
  if (m === "blend") {
    const w = $("blend-w").value / 100, a = $("blend-a").value, b = $("blend-b").value;
    if (a === b || w === 0) return a;
    if (w === 1) return b;
    return a + ":" + (1 - w).toFixed(2) + "," + b + ":" + w.toFixed(2);
  }
  if (m === "pad") return padBlend();
  return "auto";
}

function updateTarget() {
  const m = mode();
  $("one-row").hidden = m !== "one";
  $("blend-row").hidden = m !== "blend";
  $("pad-row").hidden = m !== "pad";
  const w = $("blend-w").value;
  $("blend-w-out").textContent = (100 - w) + "% " + $("blend-a").value + ", " + w + "% " + $("blend-b").value;
  const dot = $("pad-dot");
  dot.style.left = (50 + 50 * pad.v) + "%";
  dot.style.top = (50 - 50 * pad.a) + "%";
  const text = "valence " + signed(pad.v) + ", arousal " + signed(pad.a);
  $("pad-out").textContent = text;
  $("pad").setAttribute("aria-valuetext", text);
  $("target-text").textContent = target();
}

function setPad(v, a) {
  pad = {v: Math.max(-1, Math.min(1, v)), a: Math.max(-1, Math.min(1, a))};
  updateTarget();
}

// ---- stylize ----------------------------------------------------------------------------
function engine() { return document.querySelector("input[name=engine]:checked").value; }

function styleForm() {
  const form = formWithSource();
  form.append("emotion", target());
  // only what the user set: left on auto, the library's defaults apply (as on the command line)
  for (const [field, value] of Object.entries(sliders)) {
    const v = value();
    if (v !== null) form.append(field, v.toFixed(2));
  }
  if ($("preserve").checked) form.append("preserve_color", "true");
  return form;
}

async function stylize() {
  $("go").disabled = true;
  const bar = $("style-progress");
  try {
    if (engine() === "optimize") return await runJob();
    const form = styleForm();
    form.append("engine", engine());
    setStatus($("style-status"), "Stylizing and measuring\u2026");
    const r = await withProgress(bar, api("/api/stylize", {method: "POST", body: form}));
    if (!r.ok) { setStatus($("style-status"), r.body.error, "error"); return; }
    showResult(r.body);
  } finally { $("go").disabled = false; }
}

async function runJob() {
  const form = styleForm();
  form.append("steps", $("steps").value);
  form.append("size", $("size").value);
  const bar = $("style-progress");
  const r = await api("/api/jobs", {method: "POST", body: form});
  if (!r.ok) { setStatus($("style-status"), r.body.error, "error"); return; }
  job = r.body.id;
  bar.hidden = false; bar.value = 0;
  $("cancel").hidden = false;
  try {
    for (;;) {
      await new Promise(done => setTimeout(done, 500));
      const s = await api("/api/jobs/" + job);
      if (!s.ok) { setStatus($("style-status"), s.body.error, "error"); return; }
      bar.value = s.body.progress;
      setStatus($("style-status"), "Optimize: " + s.body.message + " \u00b7 " + pct(s.body.progress));
      if (s.body.state === "done") {
        const res = await api("/api/jobs/" + job + "/result");
        if (res.ok) showResult(res.body); else setStatus($("style-status"), res.body.error, "error");
        return;
      }
      if (s.body.state === "failed" || s.body.state === "cancelled") {
        setStatus($("style-status"), "Optimize " + s.body.state + ": " + s.body.message,
                  s.body.state === "failed" ? "error" : "");
        return;
      }
    }
  } finally { bar.hidden = true; $("cancel").hidden = true; job = null; }
}

function showResult(report) {
  const blob = pngBlob(report.png_base64);
  if (afterUrl) URL.revokeObjectURL(afterUrl);
  if (jsonUrl) URL.revokeObjectURL(jsonUrl);
  afterUrl = URL.createObjectURL(blob);
  const {png_base64, ...plain} = report;
  jsonUrl = URL.createObjectURL(new Blob([JSON.stringify(plain, null, 2)], {type: "application/json"}));
  $("before-img").src = previewUrl;
  $("after-img").src = afterUrl;
  $("download-png").href = afterUrl;
  $("download-png").download = report.output;
  $("download-json").href = jsonUrl;
  $("download-json").download = report.output.replace(/\.png$/, ".json");
  setStatus($("style-status"), "Done: " + report.emotion + " with the " + report.engine +
            " engine in " + report.seconds.toFixed(2) + " s", "ok");
  $("result").hidden = false;
  updateCompare();
  describeShift(report);
}

function updateCompare() {
  const x = $("compare-range").value;
  $("after-img").style.clipPath = "inset(0 0 0 " + x + "%)";
  $("divider").style.left = x + "%";
  $("compare-range").setAttribute("aria-valuetext", "before on the left " + x + "%, after on the right");
}

function describeShift(report) {
  const b = report.mood_before, a = report.mood_after, t = report.target_mood;
  const parts = ["valence", "arousal"].map(d => {
    const moved = Math.abs(t[d] - b[d]) - Math.abs(t[d] - a[d]);
    return d + " " + signed(b[d]) + " \u2192 " + signed(a[d]) + " (target " + signed(t[d]) + ", " +
      (moved >= 0 ? "moved " + moved.toFixed(2) + " closer" : "moved " + (-moved).toFixed(2) + " away") + ")";
  });
  $("shift-words").textContent = "Mood model: " + parts.join("; ") + ".";
  $("chart").replaceChildren(chart(report));
  const list = $("face-shift");
  list.replaceChildren();
  const wanted = report.emotion.includes(":") ? null : report.emotion;
  report.faces_before.forEach((before, i) => {
    const after = report.faces_after[i] || {};
    const [tb, pb] = topOf(before), [ta, pa] = topOf(after);
    let text = "Face " + (i + 1) + " (expression judge): " + tb + " " + pct(pb) + " \u2192 " + ta + " " + pct(pa);
    if (wanted && wanted !== tb) text += "; " + wanted + " " + pct(before[wanted]) + " \u2192 " + pct(after[wanted]);
    list.append(el("li", {text}));
  });
}

// A small bar chart: valence and arousal before, after and the target, on -1..1.
function chart(report) {
  const W = 360, H = 124, mid = 250, scale = 100;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.setAttribute("width", W); svg.setAttribute("height", H);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "valence and arousal before, after and target");
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text) n.textContent = text;
    svg.append(n); return n;
  };
  add("line", {x1: mid, x2: mid, y1: 0, y2: H, stroke: "#999"});
  const rows = [["valence", "mood_before", "#8c959f"], ["valence", "mood_after", "#0b62a8"],
                ["valence", "target_mood", "#f0a500"], ["arousal", "mood_before", "#8c959f"],
                ["arousal", "mood_after", "#0b62a8"], ["arousal", "target_mood", "#f0a500"]];
  const label = {mood_before: "before", mood_after: "after", target_mood: "target"};
  rows.forEach(([dim, key, colour], i) => {
    const y = 4 + i * 19 + (i >= 3 ? 4 : 0), v = report[key][dim];
    add("rect", {x: Math.min(mid, mid + v * scale), y, width: Math.max(1, Math.abs(v) * scale),
                 height: 14, fill: colour});
    add("text", {x: 2, y: y + 11}, dim + " " + label[key] + " " + signed(v));
  });
  return svg;
}

async function cancelJob() {
  if (!job) return;
  $("cancel").disabled = true;
  await api("/api/jobs/" + job, {method: "DELETE"});
  $("cancel").disabled = false;
}

// ---- start ------------------------------------------------------------------------------
(async () => {
  info = await buildNav("studio");
  if (!info) { setStatus($("photo-status"), "cannot reach the moodshift server", "error"); return; }
  fillEmotionSelect($("emotion"), "sad");
  fillEmotionSelect($("blend-a"), "happy");
  fillEmotionSelect($("blend-b"), "surprise");
  for (const ex of info.examples) {
    const b = el("button", {type: "button", "data-example": ex.name, text: "Use the example: " + ex.title});
    b.addEventListener("click", () => choose({example: ex.name}, "/api/examples/" + ex.name));
    $("examples").append(b);
  }
  const names = {expression: "Expression strength", face_strength: "Face strength",
                 person_strength: "Person strength (hair, clothes)",
                 background_strength: "Background strength"};
  sliders.strength = autoSlider($("strength"), $("strength-out"), $("strength-auto"));
  for (const field of info.style_controls) {
    const id = "control-" + field;
    const input = el("input", {type: "range", id, min: 0, max: 100, value: 100, "data-field": field});
    const out = el("output", {});
    const auto = el("input", {type: "checkbox", id: id + "-auto", checked: true});
    $("extra-controls").append(el("div", {class: "row"}, el("label", {for: id, text: names[field] || field}),
                                  input, out, el("label", {class: "inline"}, auto, " auto")));
    sliders[field] = autoSlider(input, out, auto);
  }
  const pos = {"pad-l": [0, 46], "pad-r": [72, 46], "pad-t": [40, 0], "pad-b": [42, 90]};
  for (const [id, [x, y]] of Object.entries(pos)) { $(id).style.left = x + "%"; $(id).style.top = y + "%"; }

  $("file").addEventListener("change", () => {
    const f = $("file").files[0];
    if (f) choose({file: f}, URL.createObjectURL(f));
  });
  const drop = $("drop");
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => {
    e.preventDefault(); drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) choose({file: f}, URL.createObjectURL(f));
  });
  document.querySelectorAll("input[name=mode], #emotion, #blend-a, #blend-b, #blend-w")
    .forEach(n => n.addEventListener("input", updateTarget));
  document.querySelectorAll("input[name=engine]").forEach(n => n.addEventListener("change", () => {
    $("optimize-row").hidden = engine() !== "optimize";
  }));
  const padEl = $("pad");
  padEl.addEventListener("click", e => {
    const r = padEl.getBoundingClientRect();
    setPad(2 * (e.clientX - r.left) / r.width - 1, 1 - 2 * (e.clientY - r.top) / r.height);
  });
  padEl.addEventListener("keydown", e => {
    const step = {ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, 0.1], ArrowDown: [0, -0.1]}[e.key];
    if (step) { e.preventDefault(); setPad(pad.v + step[0], pad.a + step[1]); }
  });
  $("compare-range").addEventListener("input", updateCompare);
  $("go").addEventListener("click", stylize);
  $("cancel").addEventListener("click", cancelJob);
  updateTarget();
})();
