// A readable, offline rendering of /openapi.json: each endpoint, what it does, what it takes.
"use strict";
function schemaFields(spec, schema) {
  if (!schema) return [];
  if (schema.$ref) schema = spec.components.schemas[schema.$ref.split("/").pop()];
  return Object.entries(schema.properties || {}).map(([name, p]) => {
    const type = p.type || (p.anyOf || []).map(x => x.type || "file").join("|") || (p.format || "");
    return name + (type ? " (" + type + ")" : "") + (p.description ? ": " + p.description : "");
  });
}

(async () => {
  await buildNav("docs");
  const r = await api("/openapi.json");
  if (!r.ok) { $("endpoints").textContent = r.body.error; return; }
  const spec = r.body;
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const card = el("section", {class: "card"},
        el("h2", {}, el("code", {text: method.toUpperCase() + " " + path})),
        el("p", {text: op.summary || ""}));
      if (op.description) card.append(el("p", {class: "note", text: op.description}));
      const params = (op.parameters || []).map(p => p.name + " (" + p.in + ")");
      const content = op.requestBody && op.requestBody.content;
      for (const [type, body] of Object.entries(content || {})) {
        params.push(...schemaFields(spec, body.schema).map(f => f + " [" + type + "]"));
      }
      if (params.length) card.append(el("ul", {class: "facts"}, ...params.map(t => el("li", {text: t}))));
      $("endpoints").append(card);
    }
  }
})();
