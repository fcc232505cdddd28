// The SAM rating page: rater id -> one image at a time -> three scales (+ an optional emotion
// word) -> /api/ratings; then the study's report with its plots.
"use strict";
const DIMS = ["valence", "arousal", "dominance"];
let rater = "", current = null, choice = {}, imageReady = false;

function status(text, isError) { setStatus($("status"), text, isError ? "error" : ""); }

function resetChoices() {
  choice = {};
  document.querySelectorAll(".figures button").forEach(b => b.setAttribute("aria-pressed", "false"));
  document.querySelectorAll("input[name=emotion]").forEach(r => { r.checked = r.value === ""; });
  updateSubmit();
}

function updateSubmit() {
  $("submit").disabled = !current || !imageReady || !DIMS.every(d => choice[d]);
}

async function loadNext() {
  resetChoices();
  const r = await api("/api/ratings/next?rater=" + encodeURIComponent(rater));
  if (!r.ok) { status(r.body.error || "cannot load the next image", true); return; }
  $("progress").textContent = r.body.rated + " of " + r.body.total + " rated";
  if (!r.body.image) {
    current = null;
    $("rating").hidden = true;
    $("done").hidden = false;
    status("");
    return;
  }
  current = r.body.image;
  const img = $("image");
  // Until the new image has loaded, the previous one would still be on screen: hide it and keep
  // Save disabled, so nobody rates one image while looking at another.
  imageReady = false;
  img.style.visibility = "hidden";
  const shown = () => { imageReady = true; img.style.visibility = ""; updateSubmit(); };
  img.onload = shown;
  img.onerror = () => status("cannot load this image; ask the study organiser", true);
  if (img.getAttribute("src") === current.url && img.complete && img.naturalWidth > 0) shown();
  else img.src = current.url;
  img.alt = "image to rate";
  $("rating").hidden = false;
  $("done").hidden = true;
  updateSubmit();
}

function buildScales(sam) {
  for (const dim of sam.dimensions) {
    const figures = el("div", {class: "figures"});
    for (const {level, svg} of dim.levels) {
      const b = el("button", {type: "button", "data-dim": dim.name, "data-level": level,
                              "aria-pressed": "false", "data-testid": dim.name + "-" + level});
      b.innerHTML = svg;  // moodshift's own SVG figure (server-drawn, no user text)
      b.append(String(level));
      b.addEventListener("click", () => {
        choice[dim.name] = level;
        figures.querySelectorAll("button").forEach(o => o.setAttribute("aria-pressed", o === b ? "true" : "false"));
        updateSubmit();
      });
      figures.append(b);
    }
    $("scales").append(el("section", {class: "scale", "aria-label": dim.name},
      el("h3", {text: dim.name}), figures,
      el("div", {class: "anchors"}, el("span", {text: "1: " + dim.low}), el("span", {text: "9: " + dim.high}))));
  }
  const box = $("emotions");
  box.append(el("label", {class: "inline"}, el("input", {type: "radio", name: "emotion", value: "", checked: true}), " no label"));
  for (const e of sam.emotions) {
    box.append(el("label", {class: "inline"},
      el("input", {type: "radio", name: "emotion", value: e, "data-testid": "emotion-" + e}), " " + e));
  }
}

async function save() {
  if (!current) return;
  $("submit").disabled = true;
  const checked = document.querySelector("input[name=emotion]:checked");
  const payload = {rater, image: current.hash, valence: choice.valence, arousal: choice.arousal,
                   dominance: choice.dominance, emotion: checked ? checked.value : ""};
  const r = await api("/api/ratings", {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify(payload)});
  if (r.ok || r.status === 409) {
    status(r.ok ? "Saved." : "Already rated; moving on.");
    loadNext();
  } else {
    status(r.body.error || ("error " + r.status), true);
    updateSubmit();
  }
}

function fmt(x) { return x === null || x === undefined ? "\u2013" : Number(x).toFixed(2); }

async function showReport() {
  const r = await withProgress($("report-progress"), api("/api/ratings/report"));
  if (!r.ok) { status(r.body.error, true); return; }
  const rep = r.body;
  const corr = DIMS.map(d => d + " r = " + fmt(rep.correlation[d].r) + " (n " + rep.correlation[d].n + ")");
  $("report-summary").textContent = rep.ratings + " rating(s) from " + Object.keys(rep.raters).length +
    " rater(s). Intended vs rated: " + corr.join(", ") + ".";
  const body = $("report-table").querySelector("tbody");
  body.replaceChildren();
  for (const img of rep.images) {
    const labels = Object.entries(img.labels).map(([k, v]) => k + " " + v).join(", ");
    body.append(el("tr", {}, ...[img.name, img.intended_emotion || "\u2013", String(img.n),
      fmt(img.mean.valence), fmt(img.mean.arousal), fmt(img.mean.dominance), labels || "\u2013"]
      .map(t => el("td", {text: t}))));
  }
  const plots = $("plots");
  plots.replaceChildren();
  const stamp = Date.now();
  for (const name of ["intended_vs_rated.png", "emotion_agreement.png"]) {
    plots.append(el("img", {src: "/api/ratings/plots/" + name + "?t=" + stamp, alt: name.replace(/_/g, " ")}));
  }
  $("report").hidden = false;
}

(async () => {
  await buildNav("ratings");
  const sam = await api("/api/ratings/sam");
  if (!sam.ok) { status(sam.body.error, true); $("start").hidden = true; return; }
  buildScales(sam.body);
  $("start").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("rater").value.trim();
    if (!$("rater").checkValidity() || !value) {
      status("Rater id: letters, digits, _ . @ - (up to 64)", true); return;
    }
    rater = value;
    try { localStorage.setItem("moodshift-rater", rater); } catch (e) {}
    $("start").hidden = true;
    $("who").textContent = "Rater: " + rater + " \u00b7 ";
    status("");
    loadNext();
  });
  $("submit").addEventListener("click", save);
  $("show-report").addEventListener("click", showReport);
  try { const saved = localStorage.getItem("moodshift-rater"); if (saved) $("rater").value = saved; }
  catch (e) {}
})();
