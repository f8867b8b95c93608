// Staff console core, shared by the staff page modules: the bearer token (sessionStorage only:
// it dies with the tab), the authenticated API client, the sign-in widget, labels and badges.
import { SITE_ROOT, apiBase, call, formatTime, h, onEachPage } from "./api.js";

const KEY = "clearloop-staff-token";
const watchers = new Set();
let who = null; // promise of GET /v1/staff/me for the current token

// Our stylesheet on staff pages only. Instant navigation rebuilds <head>, so every staff page
// (each has the sign-in widget) adds it again if it is gone.
function addStyles() {
  if (document.getElementById("cl-staff-css")) return;
  document.head.append(h("link", { id: "cl-staff-css", rel: "stylesheet",
    href: new URL("../css/staff.css", import.meta.url).href }));
}

const token = () => sessionStorage.getItem(KEY) || "";

function notify(reason = "") {
  for (const watcher of [...watchers]) {
    if (watcher.root.isConnected) watcher.run(reason);
    else watchers.delete(watcher);
  }
}

/** Forget the token (sign-out, or any 401) and show the sign-in form with ``reason``. */
export function signOut(reason = "") {
  sessionStorage.removeItem(KEY);
  who = null;
  notify(reason);
}

/** Call the staff API with the token; a 401 signs out. Resolves like api.js call(). */
export async function api(method, path, { body, headers = {} } = {}) {
  const auth = token();
  if (!auth) return { ok: false, status: 401, data: null, error: null };
  const result = await call(method, path, { body, headers: { ...headers, Authorization: `Bearer ${auth}` } });
  if (result.status === 401) signOut(result.error?.message);
  return result;
}

/** The signed-in member ({id, name, role, departments}) or null. */
export async function me() {
  if (!token()) return null;
  who ??= api("GET", "/v1/staff/me");
  const result = await who;
  if (!result.ok) who = null;
  return result.ok ? result.data : null;
}

/**
 * Run render(member) now and on every sign-in or sign-out (member null, with the reason), for
 * as long as root is in the page.
 */
export function whenSignedIn(root, render) {
  const watcher = { root, run: async (reason) => render(await me(), reason) };
  watchers.add(watcher);
  watcher.run();
}

/** A readable message for a failed call. */
export const problem = (r) => r.error?.message ||
  (r.status ? `The request failed (HTTP ${r.status}).` : "The staff API cannot be reached. Check your connection and try again.");

/** The raw fetch for non-JSON answers (CSV), with the token; a 401 signs out. */
export async function fetchRaw(path) {
  try {
    const response = await fetch(apiBase() + path, {
      headers: { Authorization: `Bearer ${token()}` }, credentials: "omit", cache: "no-store" });
    if (response.status === 401) signOut();
    return response;
  } catch {
    return null;
  }
}

export const ticketHref = (number) => `${new URL("staff/ticket/", SITE_ROOT).href}#${number}`;

const words = (code) => (code ? code[0].toUpperCase() + code.slice(1).replace(/_/g, " ") : "");
const STATUS = { awaiting_info: "Awaiting information", in_progress: "In progress" };
const TYPE = { inquiry: "Question", report: "Fault or hazard" };
export const statusName = (code) => STATUS[code] || words(code);
export const typeName = (code) => TYPE[code] || words(code);
export { words };

const OPEN = new Set(["received", "acknowledged", "in_progress", "awaiting_info", "reopened"]);

/** "2 h 10 min", "3 d 4 h", "45 min": the size of a gap, in whole minutes. */
export function span(ms) {
  const all = Math.round(Math.abs(ms) / 60000);
  const d = Math.floor(all / 1440);
  const hours = Math.floor((all % 1440) / 60);
  const min = all % 60;
  if (d) return hours ? `${d} d ${hours} h` : `${d} d`;
  if (hours) return min ? `${hours} h ${min} min` : `${hours} h`;
  return all ? `${min} min` : "under 1 min";
}

/**
 * The badge for a ticket's next SLA target, from the API's deadlines and states: how long is
 * left or how late it is. The state says "due soon" or "breached" once the sweep has run; the
 * clock alone already says "late".
 */
export function deadlineBadge(ticket, now = Date.now()) {
  const sla = ticket.sla || {};
  let text = "No deadline running";
  let tone = "none";
  let at = null;
  if (sla.paused) {
    text = "Clock paused: awaiting information";
    tone = "paused";
  } else if (OPEN.has(ticket.status)) {
    for (const kind of ["first_response", "resolution"]) {
      const target = sla[kind];
      if (!target || target.met_at) continue;
      const left = Date.parse(target.deadline) - now;
      const what = kind === "first_response" ? "First response" : "Resolution";
      at = target.deadline;
      if (left < 0) [text, tone] = [`${what} ${span(left)} late`, "late"];
      else if (target.state === "breached") [text, tone] = [`${what} breached, now due in ${span(left)}`, "late"];
      else [text, tone] = [`${what} due in ${span(left)}`, target.state === "due_soon" ? "soon" : "ok"];
      break;
    }
    if (!at) [text, tone] = ["Targets met", "met"];
  }
  return h("span", { class: `cl-badge cl-badge--${tone}`, title: at ? `Due ${formatTime(at)}` : null }, text);
}

/** The visible name of a form control, without "(optional)" notes. */
export const labelText = (control) => control.labels?.[0]?.firstChild?.textContent.trim() || control.name;

/** Show (or clear) the error message under a control, linked to it for screen readers. */
export function fieldError(control, message = "", error = document.getElementById(`${control.id}-error`)) {
  // The API's reasons read on from the label ("Subject must be…") or follow a colon.
  const joint = /^(is|must|does|cannot|has)\b/.test(message) ? " " : ": ";
  error.textContent = message && labelText(control) + joint + message;
  error.hidden = !message;
  const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== error.id);
  if (message) ids.unshift(error.id);
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
  if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
  else control.removeAttribute("aria-describedby");
}

/** A ticket number from the URL fragment ("#FB-3K7QM-9X2QT"). */
export const hashNumber = () => decodeURIComponent(location.hash.slice(1)).trim().toUpperCase();

// --- the sign-in widget -----------------------------------------------------------------------
function initSession(root) {
  addStyles();
  const $ = (id) => root.querySelector(`#${id}`);
  const form = $("ss-form");
  const input = $("ss-token");
  const error = $("ss-error");
  const status = $("ss-status");
  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  whenSignedIn(root, (member, reason) => {
    form.hidden = Boolean(member);
    $("ss-bar").hidden = !member;
    if (member) {
      $("ss-name").textContent = member.name;
      const where = member.departments.length ? member.departments.join(", ") : "every department";
      $("ss-role").textContent = `(${member.role}, ${where})`;
    } else {
      showError(reason ? `You have been signed out: ${reason}` : "");
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    showError("");
    if (!value) return showError("Enter your staff token.");
    status.textContent = "Signing in…";
    sessionStorage.setItem(KEY, value);
    who = null;
    const result = await api("GET", "/v1/staff/me");
    status.textContent = "";
    if (!result.ok) {
      sessionStorage.removeItem(KEY);
      showError(result.status === 401 ? `Sign-in failed: ${problem(result)}` : problem(result));
      input.focus();
      return;
    }
    who = Promise.resolve(result);
    input.value = "";
    notify();
  });
  $("ss-signout").addEventListener("click", () => {
    signOut();
    status.textContent = "Signed out.";
    input.focus();
  });
}

onEachPage('[data-clearloop="staff-session"]', initSession);
