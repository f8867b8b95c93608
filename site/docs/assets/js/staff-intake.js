// Offline intake: staff record feedback that came by phone, email, letter, the suggestion box or
// in person; the receipt shows the number and the one-time key to read out or print.
import { SITE_ROOT, categoryName, formatTime, getCategories, h, onEachPage, randomId } from "./api.js";
import { api, fieldError, problem, ticketHref, whenSignedIn } from "./staff-core.js";

const TEXTS = ["channel", "type", "category", "subject", "description", "location", "language"];
const CONTACT = ["name", "email", "phone"];

function initIntake(root) {
  const $ = (id) => root.querySelector(`#${id}`);
  const form = $("si-form");
  const alertBox = $("si-alert");
  let idempotencyKey = "";
  let lastBody = "";

  async function loadCategories() {
    const result = await getCategories();
    const list = result.data?.categories;
    if (!list) return fieldError($("si-category"), "could not be loaded: the API cannot be reached.");
    $("si-category").replaceChildren(h("option", { value: "" }, "Choose a category"), ...list.map((parent) =>
      h("optgroup", { label: categoryName(parent) }, h("option", { value: parent.code }, `${categoryName(parent)} (general)`),
        (parent.children || []).map((c) => h("option", { value: c.code }, categoryName(c))))));
  }

  function payload() {
    const value = (name) => form.elements[name].value.trim();
    const body = { consent_to_publish: form.elements.consent_to_publish.checked };
    for (const name of TEXTS) if (value(name)) body[name] = value(name);
    const contact = {};
    for (const name of CONTACT) if (value(name)) contact[name] = value(name);
    if (Object.keys(contact).length) {
      contact.consent_to_contact = form.elements.consent_to_contact.checked;
      body.contact = contact;
    }
    return body;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = payload();
    const text = JSON.stringify(body);
    // One key per distinct submission: resending after a lost answer returns the same ticket.
    if (text !== lastBody) [idempotencyKey, lastBody] = [randomId(), text];
    alertBox.hidden = true;
    $("si-status").textContent = "Recording…";
    const result = await api("POST", "/v1/staff/tickets", { body, headers: { "Idempotency-Key": idempotencyKey } });
    $("si-status").textContent = "";
    const errors = result.error?.fields || {};
    for (const name of [...TEXTS, ...CONTACT]) {
      if (name !== "language") fieldError(form.elements[name], errors[name] || errors[`contact.${name}`]);
    }
    if (!result.ok) {
      alertBox.textContent = `The feedback was not recorded: ${problem(result)}`;
      alertBox.hidden = false;
      const first = form.querySelector("[aria-invalid=true]");
      return (first || alertBox).focus();
    }
    const ticket = result.data;
    $("si-number").textContent = ticket.number;
    $("si-key").textContent = ticket.key;
    $("si-received").textContent = formatTime(ticket.submitted_at);
    $("si-first").textContent = formatTime(ticket.deadlines?.first_response);
    $("si-resolution").textContent = formatTime(ticket.deadlines?.resolution);
    $("si-track-url").textContent = new URL("track/", SITE_ROOT).href;
    $("si-open").href = ticketHref(ticket.number);
    form.hidden = true;
    $("si-receipt").hidden = false;
    $("si-title").focus();
  });

  $("si-print").addEventListener("click", () => window.print());
  $("si-another").addEventListener("click", () => {
    form.reset();
    lastBody = "";
    $("si-key").textContent = ""; // the key is not kept on the page once the receipt is closed
    $("si-receipt").hidden = true;
    form.hidden = false;
    $("si-channel").focus();
  });

  whenSignedIn(root, (member) => {
    root.hidden = !member;
    if (member && $("si-category").options.length < 2) loadCategories();
  });
}

onEachPage('[data-clearloop="staff-intake"]', initIntake);
