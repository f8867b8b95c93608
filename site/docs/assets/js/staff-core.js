// Staff console core: the token (in sessionStorage: it dies with the tab), the staff API client,
// the sign-in widget and shared helpers. Not built on api.js: with it a staff page would pass
// 30 KB of our JS+CSS, so the few helpers both need are repeated here, smaller.

const KEY = "clearloop-staff-token";
const watchers = new Set();
let who = null; // GET /v1/staff/me for the current token (a promise)
const token = () => sessionStorage.getItem(KEY) || "";
export const apiBase = () => document.querySelector("meta[name=clearloop-api]").content.trim().replace(/\/+$/, "");
export const root = new URL("../../", import.meta.url);
let zh = null; // the page's Chinese tables, merged
/** English text in the page language (data-lang="zh": messages/zh/<module>.js), slots filled. */
export const tr = (text, params = {}) => (zh?.[text] ?? text).replace(/\{(\w+)\}/g, (all, k) => params[k] ?? all);

/** An element; strings become text nodes (never HTML); false and null are left out. */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null && v !== false) node.setAttribute(k, v);
  node.append(...children.flat(3).filter((c) => c != null && c !== false));
  return node;
}

const locale = () => (zh ? "zh-CN" : undefined);
export const timeEl = (iso) => h("time", { datetime: iso },
  new Date(iso).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" }));

function notify(reason = "") {
  for (const w of watchers) if (!w.root.isConnected) watchers.delete(w);
  return Promise.all([...watchers].map((w) => w.run(reason)));
}

/** Forget the token (sign-out, any 401): the widgets show the sign-in form and the reason. */
export function signOut(reason = "") {
  sessionStorage.removeItem(KEY);
  who = null;
  return notify(reason);
}

/** Call the API; never throws: {ok, status (0: unreachable), data, error} or, raw, the Response. */
export async function api(method, path, { body, headers, raw } = {}) {
  if (!token()) return { ok: false, status: 401 };
  let response;
  try {
    response = await fetch(apiBase() + path, {
      method, credentials: "omit", cache: "no-store", signal: AbortSignal.timeout(15000),
      headers: { Accept: "application/json", "Accept-Language": zh ? "zh" : "en", Authorization: `Bearer ${token()}`, ...(body && { "Content-Type": "application/json" }), ...headers },
      body: body && JSON.stringify(body) });
  } catch {
    return { ok: false, status: 0 };
  }
  const data = raw || (await response.json().catch(() => null));
  const error = data?.error || null;
  if (response.status === 401) signOut(error?.message || tr("the API no longer accepts this token."));
  return raw ? response : { ok: response.ok, status: response.status, data, error };
}

async function me() {
  if (!token()) return null;
  const r = await (who ??= api("GET", "/v1/staff/me"));
  if (!r.ok) who = null;
  return r.ok ? r.data : null;
}

/**
 * Start [data-clearloop=name] on each page (instant navigation too): init(root, $, say) returns
 * render(member, reason), run now and on each sign-in and sign-out (member null). Widgets but
 * the sign-in one are hidden while nobody is signed in.
 */
export function widget(name, init, file) {
  const start = async () => {
    for (const root of document.querySelectorAll(`[data-clearloop="${name}"]:not([data-ready])`)) {
      root.dataset.ready = "";
      if (root.dataset.lang === "zh") {
        for (const f of ["staff-core", file]) if (f) zh = { ...zh, ...(await import(`./messages/zh/${f}.js`)).default };
      }
      const $ = (id) => root.querySelector(`#${id}`);
      const say = (id, text = "") => {
        $(id).textContent = text;
        if ($(id).matches(".cl-alert")) $(id).hidden = !text;
      };
      const render = init(root, $, say);
      const w = { root, run: async (reason) => {
        const member = await me();
        if (name !== "staff-session") root.hidden = !member;
        render(member, reason);
      } };
      watchers.add(w);
      w.run();
    }
  };
  if (window.document$) document$.subscribe(start);
  else start();
}

/** A readable message for a failed call. */
export const problem = (r) => r.error?.message ||
  (r.status ? tr("The request failed (HTTP {status}).", r) : tr("The staff API cannot be reached. Check your connection and try again."));

/** Show or clear the error under a control; the API's reasons read on from the label. */
export function fieldError(control, message = "", error = document.getElementById(`${control.id}-error`)) {
  const label = control.labels?.[0]?.firstChild.textContent.trim();
  error.textContent = message && label + (/^(is|must|does|cannot)\b/.test(message) ? " " : ": ") + message;
  error.hidden = !message;
  const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== error.id);
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
  if (message) ids.unshift(error.id);
  if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
  else control.removeAttribute("aria-describedby");
}

let cats = null;
/** The categories, flat: {code, label ("Parent: Child"), names by language}. */
export async function categories() {
  cats ??= api("GET", "/v1/categories");
  const list = (await cats).data?.categories;
  if (!list) cats = null; // a failed load is asked again next time
  const named = (c) => c.name?.[zh ? "zh" : "en"] || c.name?.en || c.name || c.code;
  return (list || []).flatMap((p) => [p, ...(p.children || [])].map((c) => ({
    code: c.code, names: c.name, label: c === p ? named(c) : named(p) + tr(": ") + named(c) })));
}

/** The address of a ticket on a staff page: "ticket", "triage" or "publication". */
export const href = (page, number) => `${new URL(`staff/${page}/`, root).href}#${number}`;
export const hashNumber = () => decodeURIComponent(location.hash.slice(1)).trim().toUpperCase();
export const words = (code) => (code ? code[0].toUpperCase() + code.slice(1).replace(/_/g, " ") : "");
const NAMES = { awaiting_info: "Awaiting information", inquiry: "Question", report: "Fault or hazard" };
export const name = (code) => tr(NAMES[code] || words(code));

/** "2 h 10 min", "3 d 4 h", "45 min": a gap in whole minutes. */
export function span(ms) {
  const all = Math.round(Math.abs(ms) / 60000);
  const [d, hours, min] = [Math.floor(all / 1440), Math.floor((all % 1440) / 60), all % 60];
  const p = { d, h: hours, m: min };
  if (d) return tr(hours ? "{d} d {h} h" : "{d} d", p);
  if (hours) return tr(min ? "{h} h {m} min" : "{h} h", p);
  return tr(all ? "{m} min" : "under 1 min", p);
}

const OPEN = ["received", "acknowledged", "in_progress", "awaiting_info", "reopened"];
export const isOpen = (ticket) => OPEN.includes(ticket.status);

/** The next SLA target: time left or how late (the clock alone says "late" before the sweep). */
export function deadlineBadge(ticket, now = Date.now()) {
  const sla = ticket.sla || {};
  let [text, tone, at] = [tr("No deadline running"), "none"];
  if (sla.paused) [text, tone] = [tr("Clock paused: awaiting information"), "paused"];
  else if (isOpen(ticket)) {
    const kind = ["first_response", "resolution"].find((k) => sla[k] && !sla[k].met_at);
    [text, tone] = [tr("Targets met"), "met"];
    if (kind) {
      const { deadline, state } = sla[kind];
      const left = Date.parse(deadline) - now;
      const p = { what: tr(kind === "first_response" ? "First response" : "Resolution"), span: span(left) };
      at = deadline;
      if (left < 0) [text, tone] = [tr("{what} {span} late", p), "late"];
      else if (state === "breached") [text, tone] = [tr("{what} breached, now due in {span}", p), "late"];
      else [text, tone] = [tr("{what} due in {span}", p), state === "due_soon" ? "soon" : "ok"];
    }
  }
  return h("span", { class: `cl-badge cl-badge--${tone}`, title: at && tr("Due {time}", { time: new Date(at).toLocaleString(locale()) }) }, text);
}

// The sign-in widget is on every staff page; it adds the staff stylesheet (instant navigation
// drops it from <head> on a public page).
widget("staff-session", (root, $, say) => {
  if (!document.getElementById("cl-staff-css")) {
    document.head.append(h("link", { id: "cl-staff-css", rel: "stylesheet", href: new URL("../css/staff.css", import.meta.url) }));
  }
  const input = $("ss-token");
  $("ss-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say("ss-error");
    if (!input.value.trim()) return say("ss-error", tr("Enter your staff token."));
    say("ss-status", tr("Signing in…"));
    sessionStorage.setItem(KEY, input.value.trim());
    const r = await (who = api("GET", "/v1/staff/me"));
    say("ss-status");
    if (!r.ok) {
      sessionStorage.removeItem(KEY);
      say("ss-error", r.status === 401 ? tr("Sign-in failed: {problem}", { problem: problem(r) }) : problem(r));
      return input.focus();
    }
    input.value = "";
    await notify();
    $("ss-who").focus();
  });
  $("ss-signout").addEventListener("click", async () => {
    await signOut();
    say("ss-status", tr("Signed out."));
    input.focus();
  });
  return (member, reason) => {
    $("ss-form").hidden = Boolean(member);
    $("ss-bar").hidden = !member;
    if (!member) return say("ss-error", reason && tr("You have been signed out: {reason}", { reason }));
    say("ss-name", member.name);
    say("ss-role", tr("({role}, {departments})", { role: tr(member.role), departments: member.departments.join(tr(", ")) || tr("every department") }));
  };
});
