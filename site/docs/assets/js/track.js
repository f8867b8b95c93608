// The "Track a ticket" widget: reads #number=...&key=... from the URL fragment (which never
// reaches a server), looks the ticket up and shows its status, deadlines and public timeline.
// The key is sent only in the X-Ticket-Key header, never in a request URL.
import {
  categoryName, format, getCategories, getTicket, h, onEachPage, pickMessages, timeElement,
  tidyCode, tooManyMessage,
} from "./api.js";

const MESSAGES = {
  en: {
    looking: "Looking up the ticket…",
    numberRequired: "Enter your ticket number.",
    invalidNumber: "That is not a valid ticket number. Check it for typing mistakes: " +
      "a ticket number looks like FB-3K7QM-9X2QT.",
    notFound: "There is no ticket with that number. Check the number on your receipt.",
    invalidKey: "The private key does not match this ticket. Check the key on your receipt, " +
      "or leave the key empty to see the status only.",
    tooMany: "Too many lookups or wrong keys have come from your connection recently. " +
      "Wait a few minutes and try again.",
    tooManyWait: "Too many lookups or wrong keys have come from your connection recently. " +
      "Try again in {wait}.",
    waitSeconds: "{n} seconds",
    waitMinute: "1 minute",
    waitMinutes: "{n} minutes",
    unreachable: "The ticket service cannot be reached. Check your connection and try again.",
    serverError: "Something went wrong on our side. Please try again in a few minutes.",
    ticketTitle: "Ticket {number}",
    status: "Status",
    type: "Type",
    category: "Category",
    submitted: "Received",
    updated: "Last updated",
    firstResponse: "First response due by",
    resolution: "Resolution due by",
    timeline: "History",
    timelineEmpty: "No public updates yet.",
    timelineLocked: "Enter the private key from your receipt to see the history of this ticket.",
    by: "by {actor}",
    actors: { submitter: "you", staff: "our staff", system: "Clearloop" },
    statuses: {
      received: "Received: waiting to be looked at",
      acknowledged: "Acknowledged: a team has it",
      in_progress: "In progress",
      awaiting_info: "Waiting for more information from you",
      resolved: "Resolved",
      closed: "Closed",
      reopened: "Reopened",
      rejected: "Not taken forward",
      merged: "Merged with another ticket",
    },
    types: {
      complaint: "Complaint",
      suggestion: "Suggestion",
      inquiry: "Question",
      praise: "Praise",
      report: "Fault or hazard",
    },
    kinds: {
      submitted: "Submitted",
      acknowledged: "Acknowledged",
      status_changed: "Status changed",
      reply: "Reply",
      message: "Information added",
      info_requested: "Information requested",
      resolved: "Resolved",
      reopened: "Reopened",
      closed: "Closed",
      rejected: "Not taken forward",
      merged: "Merged",
      rating: "Rated",
    },
  },
};

const label = (table, code) => (code && Object.hasOwn(table, code) ? table[code] : code || "");

// Material re-renders the page when the fragment first changes (instant navigation sees a
// popstate), so one fragment change can start two lookups: they share one request.
const SHARE_MS = 3000;
let recent = null;
function fetchShared(number, key) {
  const id = `${number} ${key}`;
  if (!recent || recent.id !== id || performance.now() - recent.at > SHARE_MS) {
    recent = { id, at: performance.now(), response: getTicket(number, key) };
  }
  return recent.response;
}

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { number: params.get("number") || "", key: params.get("key") || "" };
}

async function categoryLabel(code) {
  // Best effort: show the category's name, or its code when the list is unavailable.
  const result = await getCategories();
  for (const parent of result.data?.categories || []) {
    if (parent.code === code) return categoryName(parent);
    for (const child of parent.children || []) {
      if (child.code === code) return `${categoryName(parent)}: ${categoryName(child)}`;
    }
  }
  return code || "";
}

function initTrack(root) {
  const m = pickMessages(MESSAGES);
  const $ = (id) => root.querySelector(`#${id}`);
  const form = $("tr-form");
  const numberInput = $("tr-number");
  const keyInput = $("tr-key");
  const numberError = $("tr-number-error");
  const status = $("tr-status");
  const alertBox = $("tr-alert");
  const result = $("tr-result");
  let request = 0;

  function setNumberError(message) {
    numberError.textContent = message;
    numberError.hidden = !message;
    if (message) {
      numberInput.setAttribute("aria-invalid", "true");
      numberInput.setAttribute("aria-describedby", "tr-number-error tr-number-hint");
    } else {
      numberInput.removeAttribute("aria-invalid");
      numberInput.setAttribute("aria-describedby", "tr-number-hint");
    }
  }
  function showAlert(message) {
    alertBox.textContent = message;
    alertBox.hidden = !message;
  }

  async function lookUp(number, key, { focusResult, shared = false }) {
    const mine = ++request; // a later lookup wins over a slower earlier one
    result.hidden = true;
    showAlert("");
    setNumberError("");
    if (!number) {
      setNumberError(m.numberRequired);
      numberInput.focus();
      return;
    }
    status.textContent = m.looking;
    const response = await (shared ? fetchShared(number, key) : getTicket(number, key));
    if (mine !== request) return;
    status.textContent = "";
    if (response.ok && response.data?.number) {
      await render(response.data, Boolean(key));
      if (mine !== request) return;
      result.hidden = false;
      if (focusResult) result.querySelector("h2").focus();
      return;
    }
    const code = response.error?.code;
    if (response.status === 400 || code === "invalid_number") {
      setNumberError(m.invalidNumber);
      showAlert(m.invalidNumber);
    } else if (response.status === 404) {
      setNumberError(m.notFound);
      showAlert(m.notFound);
    } else if (response.status === 403 || code === "invalid_key") {
      showAlert(m.invalidKey);
    } else if (response.status === 429) {
      showAlert(tooManyMessage(m, response.retryAfter));
    } else if (response.status === 0) {
      showAlert(m.unreachable);
    } else {
      showAlert(m.serverError);
    }
  }

  async function render(ticket, withKey) {
    const deadlines = ticket.deadlines || {};
    const row = (name, value) => value && [h("dt", {}, name), h("dd", {}, value)];
    const facts = h("dl", { class: "cl-facts" },
      row(m.status, h("strong", { class: "cl-ticket-status" }, label(m.statuses, ticket.status))),
      row(m.type, label(m.types, ticket.type)),
      row(m.category, ticket.category && (await categoryLabel(ticket.category))),
      row(m.submitted, ticket.submitted_at && timeElement(ticket.submitted_at)),
      row(m.updated, ticket.updated_at && timeElement(ticket.updated_at)),
      row(m.firstResponse, deadlines.first_response && timeElement(deadlines.first_response)),
      row(m.resolution, deadlines.resolution && timeElement(deadlines.resolution)));
    let history;
    if (Array.isArray(ticket.timeline)) {
      history = ticket.timeline.length
        ? h("ol", { class: "cl-timeline" }, ticket.timeline.map((event) =>
          h("li", { "data-kind": event.kind || "" },
            h("p", { class: "cl-timeline-head" },
              h("strong", {}, label(m.kinds, event.kind)), " ",
              event.at && timeElement(event.at), " ",
              event.actor && h("span", { class: "cl-hint" }, format(m.by, { actor: label(m.actors, event.actor) }))),
            event.text && h("p", { class: "cl-timeline-text" }, event.text))))
        : h("p", {}, m.timelineEmpty);
    } else {
      history = h("p", {}, withKey ? m.timelineEmpty : m.timelineLocked);
    }
    result.replaceChildren(
      h("h2", { id: "tr-result-title", tabindex: "-1" }, format(m.ticketTitle, { number: ticket.number })),
      facts,
      h("h3", {}, m.timeline),
      history);
  }

  function fromFragment({ focusResult }) {
    const { number, key } = readFragment();
    if (!number) return;
    numberInput.value = number;
    keyInput.value = key;
    lookUp(tidyCode(number), tidyCode(key), { focusResult, shared: true });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const number = tidyCode(numberInput.value);
    const key = tidyCode(keyInput.value);
    // Reflect the number (never a typed key) in the address so the page can be bookmarked.
    if (number) history.replaceState(history.state, "", `#number=${encodeURIComponent(number)}`);
    lookUp(number, key, { focusResult: true });
  });
  $("tr-submit").disabled = false;
  fromFragment({ focusResult: false });
  root.addEventListener("clearloop:hashchange", () => fromFragment({ focusResult: true }));
}

// One window listener for the whole visit (the widget itself is replaced on instant navigation).
window.addEventListener("hashchange", () => {
  document.querySelector('[data-clearloop="track"]')
    ?.dispatchEvent(new CustomEvent("clearloop:hashchange"));
});

onEachPage('[data-clearloop="track"]', initTrack);
