// moodshift web: what every page shares. Text from the server or the user is only ever put on
// the page with textContent (never innerHTML), so no description or file name can inject markup.
"use strict";
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v;
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c);
  return node;
}

// fetch + JSON; errors become {ok: false, status, body: {error}} with a one-line message.
async function api(path, options) {
  let response;
  try { response = await fetch(path, options); }
  catch (e) { return {ok: false, status: 0, body: {error: "cannot reach the moodshift server"}}; }
  let body = {};
  try { body = await response.json(); }
  catch (e) { body = {error: "unexpected reply from the server (" + response.status + ")"}; }
  if (!response.ok && !body.error) body.error = "error " + response.status;
  return {ok: response.ok, status: response.status, body};
}

function setStatus(node, text, kind) {
  node.textContent = text || "";
  node.className = "status" + (kind ? " " + kind : "");
}

// Shows a progress bar while a promise runs (anything the user waits on).
async function withProgress(bar, promise) {
  bar.hidden = false;
  bar.removeAttribute("value");  // indeterminate
  try { return await promise; } finally { bar.hidden = true; }
}

function pngBlob(base64) {
  const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
  return new Blob([bytes], {type: "image/png"});
}

function signed(x) { return (x >= 0 ? "+" : "\u2212") + Math.abs(x).toFixed(2); }
function pct(x) { return Math.round(100 * x) + "%"; }
function topOf(probs) {
  return Object.entries(probs).reduce((a, b) => (b[1] > a[1] ? b : a));
}

// A percentage slider with an "auto" box beside it: while the box is ticked the slider is off
// and nothing is sent, so the library's own default applies (the palette's strength for the
// emotion, faces spared by the engine), exactly as on the command line.
function autoSlider(range, output, auto) {
  const show = () => {
    range.disabled = auto.checked;
    output.textContent = auto.checked ? "" : range.value + "%";   // the box says "auto"
  };
  range.addEventListener("input", show);
  auto.addEventListener("change", show);
  show();
  return () => (auto.checked ? null : range.value / 100);  // the value to send, or null
}

// The navigation shows only the pages this server serves.
async function buildNav(current) {
  const nav = $("nav");
  const r = await api("/api/info");
  const pages = r.ok ? r.body.pages : [current];
  const names = {studio: "Studio", portraits: "Portraits", ratings: "Ratings"};
  nav.append(el("span", {class: "brand", text: "moodshift"}));
  for (const p of pages) {
    nav.append(el("a", {href: "/" + p, "aria-current": p === current ? "page" : null,
                        text: names[p] || p}));
  }
  nav.append(el("a", {href: "/docs", text: "API"}));
  return r.ok ? r.body : null;
}
