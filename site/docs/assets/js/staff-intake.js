// Offline intake: staff record feedback that came by phone, email, letter, the suggestion box or
// in person; the receipt shows the number and the one-time key to read out or print.
import { api, categories, fieldError, h, href, problem, root as site, timeEl, tr, widget } from "./staff-core.js";

const TEXTS = ["channel", "type", "category", "subject", "description", "location", "language"];
const CONTACT = ["name", "email", "phone"];

widget("staff-intake", (root, $, say) => {
  const form = $("si-form");
  const value = (name) => form.elements[name].value.trim();
  let idempotencyKey = "";
  let lastBody = "";

  async function loadCategories() {
    const list = await categories();
    if (!list.length) return fieldError($("si-category"), tr("could not be loaded: the API cannot be reached."));
    $("si-category").replaceChildren(h("option", { value: "" }, tr("Choose a category")),
      ...list.map((c) => h("option", { value: c.code }, c.label)));
    fieldError($("si-category"));
  }

  function payload() {
    const body = { consent_to_publish: form.elements.consent_to_publish.checked };
    for (const name of TEXTS) if (value(name)) body[name] = value(name);
    const contact = {};
    for (const name of CONTACT) if (value(name)) contact[name] = value(name);
    if (Object.keys(contact).length) body.contact = { ...contact, consent_to_contact: form.elements.consent_to_contact.checked };
    return body;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = payload();
    // One key per distinct submission: resending after a lost answer returns the same ticket.
    if (JSON.stringify(body) !== lastBody) [idempotencyKey, lastBody] = [crypto.randomUUID(), JSON.stringify(body)];
    say("si-alert");
    say("si-status", tr("Recording…"));
    const r = await api("POST", "/v1/staff/tickets", { body, headers: { "Idempotency-Key": idempotencyKey } });
    say("si-status");
    const errors = r.error?.fields || {};
    for (const name of [...TEXTS, ...CONTACT]) {
      if (name !== "language") fieldError(form.elements[name], errors[name] || errors[`contact.${name}`]);
    }
    if (!r.ok) {
      say("si-alert", tr("The feedback was not recorded: {problem}", { problem: problem(r) }));
      return (form.querySelector("[aria-invalid=true]") || $("si-alert")).focus();
    }
    const t = r.data;
    say("si-number", t.number);
    say("si-key", t.key);
    $("si-received").replaceChildren(timeEl(t.submitted_at));
    $("si-first").replaceChildren(timeEl(t.deadlines.first_response));
    $("si-resolution").replaceChildren(timeEl(t.deadlines.resolution));
    say("si-track-url", new URL(`${t.language === "zh" ? "zh/" : ""}track/`, site).href);
    $("si-open").href = href("ticket", t.number);
    form.hidden = true;
    $("si-receipt").hidden = false;
    $("si-title").focus();
  });

  $("si-print").addEventListener("click", () => print());
  $("si-another").addEventListener("click", () => {
    form.reset();
    lastBody = "";
    say("si-key"); // the key leaves the page with the receipt
    $("si-receipt").hidden = true;
    form.hidden = false;
    $("si-channel").focus();
  });

  return (member) => member && $("si-category").options.length < 2 && loadCategories();
}, "staff-intake");
