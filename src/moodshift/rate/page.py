"""The rating web page: one self-contained HTML document with inline CSS, JS and SAM figures."""

from __future__ import annotations

import html

from moodshift.emotions import EMOTIONS
from moodshift.rate.sam import ANCHORS, DIMENSIONS, LEVELS, manikin_svg

_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
main { max-width: 900px; margin: 0 auto; padding: 12px 16px 32px; }
h1 { font-size: 1.2rem; margin: 4px 0 8px; }
#start label { margin-right: 8px; }
#stimulus { text-align: center; margin: 8px 0; }
/* Every stimulus is shown at the same height (small images scaled up) so display size does not
   differ between images; object-fit keeps the aspect ratio. */
#stimulus img { height: min(42vh, 480px); max-width: 100%; object-fit: contain;
  border: 1px solid #ccc; background: #fff; }
.scale { margin: 6px 0; }
.scale h2 { font-size: 0.95rem; margin: 4px 0 0; text-transform: capitalize; }
.anchors { display: flex; justify-content: space-between; font-size: 0.8rem; color: #666; }
.figures { display: flex; justify-content: space-between; gap: 2px; }
.figures button { flex: 1; padding: 2px 0 0; border: 2px solid transparent; border-radius: 6px;
  background: #fff; cursor: pointer; font-size: 0.75rem; }
.figures button svg { display: block; margin: 0 auto; width: 100%; max-width: 60px; height: auto; }
.figures button[aria-pressed="true"] { border-color: #1769aa; background: #dcebf7; }
.figures button:focus-visible { outline: 2px solid #1769aa; }
#emotions { margin: 8px 0; font-size: 0.9rem; }
#emotions label { margin-right: 10px; white-space: nowrap; }
#submit { font-size: 1rem; padding: 6px 20px; }
#status { min-height: 1.3em; margin: 6px 0; }
.error { color: #b00020; }
[hidden] { display: none !important; }
"""

_JS = r"""
"use strict";
const $ = (id) => document.getElementById(id);
const DIMS = ["valence", "arousal", "dominance"];
let rater = "", current = null, choice = {}, imageReady = false;

function status(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function resetChoices() {
  choice = {};
  document.querySelectorAll(".figures button").forEach(b => b.setAttribute("aria-pressed", "false"));
  document.querySelectorAll("input[name=emotion]").forEach(r => { r.checked = r.value === ""; });
  updateSubmit();
}

function updateSubmit() {
  $("submit").disabled = !current || !imageReady || !DIMS.every(d => choice[d]);
}

async function api(path, options) {
  let response;
  try { response = await fetch(path, options); }
  catch (e) { return {ok: false, status: 0, body: {error: "cannot reach the moodshift server"}}; }
  let body = {};
  try { body = await response.json(); } catch (e) { body = {error: "bad reply from server"}; }
  return {ok: response.ok, status: response.status, body};
}

async function loadNext() {
  resetChoices();
  const r = await api("/api/next?rater=" + encodeURIComponent(rater));
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

document.querySelectorAll(".figures button").forEach(b => b.addEventListener("click", () => {
  const dim = b.dataset.dim;
  choice[dim] = parseInt(b.dataset.level, 10);
  document.querySelectorAll('.figures button[data-dim="' + dim + '"]')
    .forEach(o => o.setAttribute("aria-pressed", o === b ? "true" : "false"));
  updateSubmit();
}));

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

$("submit").addEventListener("click", async () => {
  if (!current) return;
  $("submit").disabled = true;
  const checked = document.querySelector("input[name=emotion]:checked");
  const payload = {rater, image: current.hash, valence: choice.valence, arousal: choice.arousal,
                   dominance: choice.dominance, emotion: checked ? checked.value : ""};
  const r = await api("/api/rating", {method: "POST", headers: {"Content-Type": "application/json"},
                                      body: JSON.stringify(payload)});
  if (r.ok || r.status === 409) {
    status(r.ok ? "Saved." : "Already rated; moving on.");
    loadNext();
  } else {
    status(r.body.error || ("error " + r.status), true);
    updateSubmit();
  }
});

try { const saved = localStorage.getItem("moodshift-rater"); if (saved) $("rater").value = saved; }
catch (e) {}
"""


def _scale_html(dimension: str) -> str:
    low, high = ANCHORS[dimension]
    buttons = "".join(
        f'<button type="button" data-dim="{dimension}" data-level="{level}" aria-pressed="false"'
        f' data-testid="{dimension}-{level}">{manikin_svg(dimension, level)}{level}</button>'
        for level in LEVELS)
    return (f'<section class="scale" aria-label="{dimension}"><h2>{dimension}</h2>'
            f'<div class="figures">{buttons}</div>'
            f'<div class="anchors"><span>1: {html.escape(low)}</span>'
            f'<span>9: {html.escape(high)}</span></div></section>')


def render_page(title: str = "moodshift: how does this image make you feel?") -> str:
    """The whole rating page as HTML text."""
    emotions = ('<label><input type="radio" name="emotion" value="" checked> no label</label>'
                + "".join(f'<label><input type="radio" name="emotion" value="{e}" '
                          f'data-testid="emotion-{e}"> {e}</label>' for e in EMOTIONS))
    scales = "".join(_scale_html(d) for d in DIMENSIONS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body><main>
<h1>{html.escape(title)}</h1>
<p>For each image, click the figure on each row that best matches how the image makes
<em>you</em> feel (points between the extremes are fine), optionally pick an emotion word,
then press <b>Save and next</b>.</p>
<form id="start" novalidate><label for="rater">Rater id</label>
<input id="rater" name="rater" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_.@\\-]{{0,63}}"
 autocomplete="off"> <button type="submit" id="begin">Start</button></form>
<p><span id="who"></span><span id="progress"></span></p>
<div id="rating" hidden>
<div id="stimulus"><img id="image" alt=""></div>
{scales}
<fieldset id="emotions"><legend>Emotion (optional)</legend>{emotions}</fieldset>
<button type="button" id="submit" disabled>Save and next</button>
</div>
<p id="done" hidden>All images rated. Thank you!</p>
<p id="status" role="status"></p>
</main><script>{_JS}</script></body></html>
"""
