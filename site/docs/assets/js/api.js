// Shared client for the Clearloop public API and small helpers the page widgets share.
// The API base URL comes from <meta name="clearloop-api"> (mkdocs.yml extra.api_base).

const TIMEOUT_MS = 15000;

// This file lives at <site>/assets/js/api.js, so the site root is two folders up.
export const SITE_ROOT = new URL("../../", import.meta.url);

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";

export const apiBase = () => meta("clearloop-api").trim().replace(/\/+$/, "");

export const minFillSeconds = () => {
  const value = Number.parseFloat(meta("clearloop-min-fill-seconds"));
  return Number.isFinite(value) && value >= 0 ? value : 3;
};

/** The page language as the API and the message catalogues know it: "en" or "zh". */
export const language = () =>
  (document.documentElement.lang || "en").toLowerCase().startsWith("zh") ? "zh" : "en";

/** A page of the site in a language: English at the root, Chinese under /zh/. */
export const pageUrl = (path, lang = language()) =>
  new URL((lang === "zh" ? "zh/" : "") + path, SITE_ROOT);

/** Pick the catalogue for the page language, falling back to English per message. */
export const pickMessages = (catalogues) => ({ ...catalogues.en, ...catalogues[language()] });

/**
 * A widget's messages in the page language, from assets/js/messages/<language>/<widget>.js:
 * a page loads only its own language's table (English if that one cannot be loaded).
 */
export async function loadMessages(widget) {
  try {
    return (await import(`./messages/${language()}/${widget}.js`)).default;
  } catch {
    return (await import(`./messages/en/${widget}.js`)).default;
  }
}

/** Fill "{name}" slots in a message template. */
export const format = (template, values = {}) =>
  template.replace(/\{(\w+)\}/g, (slot, name) => (name in values ? String(values[name]) : slot));

/**
 * A "too many requests" message: with the server's Retry-After, ``m.tooManyWait`` naming the
 * wait (``m.waitSeconds``, ``m.waitMinute``, ``m.waitMinutes``); without it, ``m.tooMany``.
 */
export function tooManyMessage(m, retryAfter) {
  if (!retryAfter) return m.tooMany;
  const minutes = Math.ceil(retryAfter / 60);
  const wait = retryAfter < 60 ? format(m.waitSeconds, { n: retryAfter })
    : minutes === 1 ? m.waitMinute : format(m.waitMinutes, { n: minutes });
  return format(m.tooManyWait, { wait });
}

/**
 * Call the API. Never throws: resolves to {ok, status, data, error, retryAfter}, where error is
 * the SPEC's {code, message, fields} object (or null), status 0 means the API was unreachable
 * and retryAfter is the Retry-After header in seconds (or null).
 */
export async function call(method, path, { body, headers = {} } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  // The API answers (error messages, category names) in the page's language.
  const sent = {
    Accept: "application/json",
    "Accept-Language": language() === "zh" ? "zh-CN, zh;q=0.9, en;q=0.5" : "en",
    ...headers,
  };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  try {
    const response = await fetch(apiBase() + path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      credentials: "omit",
      cache: "no-store",
    });
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null; // an empty or non-JSON body (e.g. a gateway error page)
    }
    const error = data && typeof data.error === "object" ? data.error : null;
    // Seconds to wait on a 429 or 503 (CORS exposes the header); null when absent.
    const wait = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    const retryAfter = wait > 0 ? wait : null;
    return { ok: response.ok, status: response.status, data, error, retryAfter };
  } catch {
    return { ok: false, status: 0, data: null, error: null, retryAfter: null };
  } finally {
    clearTimeout(timer);
  }
}

let categories = null;

/** The category taxonomy; a failed load is not cached, so a retry asks again. */
export function getCategories() {
  categories ??= call("GET", "/v1/categories").then((result) => {
    if (!result.ok || !Array.isArray(result.data?.categories)) categories = null;
    return result;
  });
  return categories;
}

/** A category's display name: the API may send a string or a {lang: name} map. */
export const categoryName = (category) => {
  const name = category?.name;
  if (name && typeof name === "object") return name[language()] || name.en || category.code;
  return name || category?.code || "";
};

export const submitFeedback = (payload, idempotencyKey) =>
  call("POST", "/v1/feedback", { body: payload, headers: { "Idempotency-Key": idempotencyKey } });

/** Look a ticket up; the key travels only in a header, never in the URL. */
export const getTicket = (number, key) =>
  call("GET", `/v1/tickets/${encodeURIComponent(number)}`, {
    headers: key ? { "X-Ticket-Key": key } : {},
  });

/** Tidy a typed ticket number or key: the server accepts any case and optional dashes. */
export const tidyCode = (text) => text.normalize("NFKC").replace(/\s+/g, "").toUpperCase();

// Dash look-alikes a phone number may be typed with (after NFKC folds full-width forms).
const DASHES = /[\u2010-\u2015\u2212\u30fc]/g;

/** A phone number as the server reads it: full-width digits, brackets, plus signs and
 * ideographic spaces folded (NFKC), dash look-alikes made "-" (api/chalicelib/domain/feedback.py). */
export const foldPhone = (text) => text.normalize("NFKC").replace(DASHES, "-");

/** A random Idempotency-Key. */
export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Length in characters (code points), as the server counts. */
export const charCount = (text) => [...text].length;

/** Format an ISO 8601 time for people; returns "" for a missing value. */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  }).format(date);
}

/** Build an element; string children become text nodes (never parsed as HTML). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A <time> element showing an ISO time. */
export const timeElement = (iso) => h("time", { datetime: iso }, formatTime(iso));

/**
 * Run init(element) once for each element matching selector on every page, including pages
 * reached by Material's instant navigation (which replaces the content and emits document$).
 */
export function onEachPage(selector, init) {
  const run = () => {
    for (const element of document.querySelectorAll(selector)) {
      if (element.dataset.clearloopReady) continue;
      element.dataset.clearloopReady = "true";
      // data-clearloop-wired tells tests (and styles) that the widget's handlers are attached.
      const wired = () => { element.dataset.clearloopWired = "true"; };
      Promise.resolve(init(element)).then(wired, wired);
    }
  };
  if (window.document$?.subscribe) window.document$.subscribe(run);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
}
