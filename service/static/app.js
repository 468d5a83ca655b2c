// The demo page: reads the form, calls POST /v1/analyze, shows the answer for a person.
// Every piece of text from the article or the API goes into the page with textContent or
// createElement, never as HTML: a pasted <script> is shown, not run.
"use strict";

const $ = (id) => document.getElementById(id);
let model = null;        // GET /v1/model, once it answered
let running = null;      // AbortController of the request in flight

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// ------------------------------------------------------------------ talking to the service

class ServiceError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ServiceError("The service could not be reached. Is it still running? "
                           + "Start it with `make serve` and try again.", "unreachable", 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (response.ok && body) return body;
  const detail = body && body.error;
  if (detail && typeof detail.message === "string") {
    throw new ServiceError(detail.message, detail.code, response.status);
  }
  throw new ServiceError(`The service answered ${response.status} ${response.statusText || ""} `
                         + "without a message. Try again; if it persists, check the service's log.",
                         "http_" + response.status, response.status);
}

async function loadModel() {
  try {
    model = await call("/v1/model");
  } catch (error) {
    $("model-info").textContent = "Model: not available yet (" + error.message + ")";
    return null;
  }
  $("model-info").textContent = `Model: ${model.name} ${model.version}`
    + (model.trained_at ? `, trained ${model.trained_at.slice(0, 10)}` : "");
  const select = $("algorithm");
  const chosen = select.value;
  clear(select);
  for (const name of model.summary.algorithms) {
    const option = element("option", "", name === model.summary.default_algorithm ? `${name} (default)` : name);
    option.value = name;
    select.appendChild(option);
  }
  select.value = model.summary.algorithms.includes(chosen) ? chosen : model.summary.default_algorithm;
  $("sentences").max = String(model.summary.max_sentences);
  return model;
}

// ------------------------------------------------------------------ the form

async function loadExample(event, onlyIntoEmpty = false) {
  const name = $("example").value;
  if (!name) return;
  try {
    const response = await fetch("/static/examples/" + encodeURIComponent(name));
    if (!response.ok) throw new Error(String(response.status));
    const text = await response.text();
    if ($("example").value !== name) return;  // another example was picked meanwhile
    if (onlyIntoEmpty && $("text").value) return;  // the visitor was quicker
    $("text").value = text;
    $("title").value = "";
    setStatus("Example loaded: press Analyse (or Ctrl+Enter).");
  } catch (error) {
    showError("The example could not be loaded from the service (" + error.message + ").", "example_missing");
  }
}

function request() {
  const body = {
    text: $("text").value,
    summary: {},
    explain: true,
    cleanup: true,
  };
  const title = $("title").value.trim();
  if (title) body.title = title;
  const algorithm = $("algorithm").value;
  if (algorithm) body.summary.algorithm = algorithm;
  const sentences = $("sentences").value.trim();
  if (sentences !== "") body.summary.sentences = /^\d+$/.test(sentences) ? Number(sentences) : sentences;
  return body;
}

async function analyse() {
  if (running) running.abort();
  const controller = new AbortController();
  running = controller;
  const body = request();
  setStatus("Analysing…");
  document.body.setAttribute("aria-busy", "true");
  const started = performance.now();
  try {
    if (!model) await loadModel();
    const answer = await call("/v1/analyze", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (model && answer.model && answer.model.version !== model.version) await loadModel();
    hideError();
    render(body.text, answer);
    reveal($("status"));
    const labels = answer.labels.length ? answer.labels.join(", ") : "none of the topics";
    setStatus(`Analysed in ${Math.round(performance.now() - started)} ms: ${labels}.`);
  } catch (error) {
    if (error.name === "AbortError") return;
    $("result").hidden = true;
    setStatus("");
    showError(error.message, error.code, error.status);
    reveal($("error"));
  } finally {
    if (running === controller) {
      running = null;
      document.body.removeAttribute("aria-busy");
    }
  }
}

// On a phone the answer starts below the button: bring it up (focus stays where it was).
function reveal(node) {
  if (node.getBoundingClientRect().top > window.innerHeight * 0.8) node.scrollIntoView({ block: "start" });
}

function setStatus(text) {
  $("status").textContent = text;
}

function showError(message, code, status) {
  $("error-message").textContent = message;
  $("error-code").textContent = code ? `Error code: ${code}` + (status ? ` (HTTP ${status})` : "") : "";
  $("error").hidden = false;
}

function hideError() {
  $("error").hidden = true;
}

// ------------------------------------------------------------------ the answer

function render(text, answer) {
  renderTopics(answer);
  renderSummary(answer.summary);
  renderExplanation(answer);
  renderArticle(text, answer.summary.sentences, answer.cleanup ? answer.cleanup.removed : []);
  $("result-model").textContent = `Answered by model ${answer.model.name} ${answer.model.version}.`;
  $("result").hidden = false;
}

function labelsOf(answer) {
  return model ? model.labels : Object.keys(answer.scores);
}

function percent(x) {
  return `${Math.max(0, Math.min(100, x * 100)).toFixed(1)}%`;
}

function renderTopics(answer) {
  const list = $("topics");
  clear(list);
  for (const label of labelsOf(answer)) {
    const score = answer.scores[label];
    const threshold = model && model.thresholds ? model.thresholds[label] : undefined;
    const chosen = answer.labels.includes(label);
    const item = element("li", chosen ? "topic chosen" : "topic");
    item.dataset.label = label;
    const head = element("div", "topic-head");
    head.appendChild(element("span", "topic-name", label));
    head.appendChild(element("span", "topic-verdict", chosen ? "chosen" : "not chosen"));
    head.appendChild(element("span", "topic-score", score.toFixed(2)));
    item.appendChild(head);
    const bar = element("div", "bar");
    bar.setAttribute("role", "img");
    bar.setAttribute("aria-label", `score ${score.toFixed(2)}`
      + (threshold !== undefined ? `, threshold ${threshold.toFixed(2)}` : ""));
    const fill = element("div", "fill");
    fill.style.width = percent(score);
    bar.appendChild(fill);
    if (threshold !== undefined) {
      const mark = element("div", "threshold");
      mark.style.left = percent(threshold);
      mark.title = `threshold ${threshold.toFixed(2)}`;
      bar.appendChild(mark);
      item.appendChild(bar);
      item.appendChild(element("div", "threshold-note", `threshold ${threshold.toFixed(2)}`));
    } else {
      item.appendChild(bar);
    }
    list.appendChild(item);
  }
}

function renderSummary(summary) {
  const list = $("summary");
  clear(list);
  for (const sentence of summary.sentences) list.appendChild(element("li", "", sentence.text));
  const count = summary.sentences.length;
  $("summary-meta").textContent = `${count} sentence${count === 1 ? "" : "s"}, algorithm ${summary.algorithm}; `
    + "highlighted in the article below.";
}

function renderExplanation(answer) {
  const box = $("explanation");
  clear(box);
  const explanation = answer.explanation || {};
  for (const label of labelsOf(answer)) {
    const group = element("div", answer.labels.includes(label) ? "terms chosen" : "terms");
    group.appendChild(element("h4", "", label));
    const terms = explanation[label] || [];
    if (!terms.length) group.appendChild(element("p", "hint", "no term of this article pushed it up"));
    const list = element("ul", "chips");
    for (const { term, weight } of terms) {
      const chip = element("li", "chip");
      chip.appendChild(element("span", "term", term));
      chip.appendChild(element("span", "weight", `+${weight.toFixed(2)}`));
      list.appendChild(chip);
    }
    group.appendChild(list);
    box.appendChild(group);
  }
}

// Offsets from the API count code points; JavaScript strings count UTF-16 units.
function unitIndex(text) {
  if (!/[\uD800-\uDFFF]/.test(text)) return (i) => i;
  const units = [0];
  for (const character of text) units.push(units[units.length - 1] + character.length);
  return (i) => units[Math.min(i, units.length - 1)];
}

function renderArticle(text, sentences, removed) {
  const box = $("article");
  clear(box);
  const unit = unitIndex(text);
  const spans = [
    ...sentences.map((s) => ({ start: s.start, end: s.end, tag: "mark", className: "sentence" })),
    ...removed.map((s) => ({ start: s.start, end: s.end, tag: "del", className: "furniture" })),
  ].sort((a, b) => a.start - b.start);
  let position = 0;  // in UTF-16 units, like from and to
  for (const span of spans) {
    const from = unit(span.start);
    const to = unit(span.end);
    if (from < position) continue;  // never expected: spans do not overlap
    if (from > position) box.appendChild(document.createTextNode(text.slice(position, from)));
    const node = element(span.tag, span.className, text.slice(from, to));
    node.dataset.start = String(span.start);
    node.dataset.end = String(span.end);
    if (span.tag === "del") node.title = "removed as page furniture";
    box.appendChild(node);
    position = to;
  }
  if (position < text.length) box.appendChild(document.createTextNode(text.slice(position)));
}

// ------------------------------------------------------------------ wiring

document.addEventListener("DOMContentLoaded", () => {
  if (/Mac|iPhone|iPad/.test(navigator.platform)) $("shortcut").textContent = "or ⌘+Enter";
  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    analyse();
  });
  $("form").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      analyse();
    }
  });
  $("example").addEventListener("change", loadExample);
  if (!$("text").value) {  // a first visit: one press of Analyse shows what the service does
    $("example").value = "egypt_nato_ties.txt";
    loadExample(null, true);
  }
  loadModel();
});
