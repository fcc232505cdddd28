// The portraits page: a description (and optional choices) -> /api/generate -> a grid.
"use strict";
const AGES = ["child", "teen", "young_adult", "middle_aged", "elderly"];
let urls = [];
let strength = () => null;   // the style strength to send (null: auto)

async function generate() {
  const text = $("text").value.trim();
  const body = {n: parseInt($("n").value, 10) || 1, seed: parseInt($("seed").value, 10) || 0,
                size: parseInt($("size").value, 10), styled: !$("unstyled").checked,
                same_person: $("same-person").checked};
  if (strength() !== null) body.strength = strength();  // auto: the palette's, as the CLI does
  if (text) body.text = text;
  for (const k of ["emotion", "age", "gender", "style", "generator"]) if ($(k).value) body[k] = $(k).value;
  if (!text && !body.emotion && !body.same_person) {
    setStatus($("status"), "Type a description or choose an emotion.", "error"); return;
  }
  $("go").disabled = true;
  setStatus($("status"), "Reading and drawing\u2026");
  const r = await withProgress($("progress"), api("/api/generate", {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)}));
  $("go").disabled = false;
  if (!r.ok) { setStatus($("status"), r.body.error, "error"); return; }
  setStatus($("status"), r.body.portraits.length + " portrait(s)", "ok");
  show(r.body);
}

function show(result) {
  urls.forEach(u => URL.revokeObjectURL(u));
  urls = [];
  const rd = result.reading;
  let line = "Drawing: " + (result.same_person ? "every emotion" : result.emotion) + ", age " +
    (result.age_group || "unspecified").replace("_", " ") + ", gender " + (result.gender || "unspecified") + ".";
  if (rd) {
    line = "Read from the text: " + rd.emotion + " (" + pct(rd.confidence) + "), age " +
      (rd.age_group || "not stated").replace("_", " ") + ", gender " + (rd.gender || "not stated") +
      (rd.note ? " [" + rd.note + "]" : "") + ". " + line;
  }
  $("reading").textContent = line;
  const grid = $("portraits");
  grid.replaceChildren();
  result.portraits.forEach((p, i) => {
    const url = URL.createObjectURL(pngBlob(p.png_base64));
    urls.push(url);
    const name = "portrait-" + p.emotion + "-s" + p.seed + "-" + (i + 1) + ".png";
    grid.append(el("figure", {"data-emotion": p.emotion},
      el("img", {src: url, alt: p.emotion + " portrait " + (i + 1)}),
      el("figcaption", {}, el("span", {text: p.emotion + (p.style ? " \u00b7 style " + p.style : "") + " "}),
         el("a", {href: url, download: name, text: "PNG"}))));
  });
  $("results").hidden = false;
}

(async () => {
  const info = await buildNav("portraits");
  if (!info) { setStatus($("status"), "cannot reach the moodshift server", "error"); return; }
  for (const e of info.emotions) {
    $("emotion").append(el("option", {value: e, text: e}));
    $("style").append(el("option", {value: e, text: e}));
  }
  for (const a of AGES) $("age").append(el("option", {value: a, text: a.replace("_", " ")}));
  for (const g of ["female", "male"]) $("gender").append(el("option", {value: g, text: g}));
  strength = autoSlider($("strength"), $("strength-out"), $("strength-auto"));
  $("go").addEventListener("click", generate);
  $("text").addEventListener("keydown", e => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) generate(); });
})();
