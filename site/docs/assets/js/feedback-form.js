// The "Give feedback" form: categories from the API, validation mirroring the server's limits,
// accessible errors, bot screening (honeypot + minimum fill time) and the one-time receipt.
import {
  SITE_ROOT, categoryName, charCount, format, getCategories, h, language, minFillSeconds,
  onEachPage, pickMessages, randomId, submitFeedback, timeElement,
} from "./api.js";

const MESSAGES = {
  en: {
    loadingCategories: "Loading categories…",
    chooseCategory: "Choose a category",
    categoryGeneral: "{name} (general)",
    categoriesUnavailable:
      "The categories could not be loaded because the feedback service cannot be reached. " +
      "Check your connection and try again. If it keeps happening, the service may be down: " +
      "please try again later.",
    summaryTitle: "There is a problem",
    typeRequired: "Choose what kind of feedback this is.",
    categoryRequired: "Choose a category.",
    subjectRequired: "Enter a subject.",
    subjectLong: "The subject must be {max} characters or fewer.",
    descriptionRequired: "Describe your feedback.",
    descriptionLong: "The description must be {max} characters or fewer.",
    locationLong: "The location must be {max} characters or fewer.",
    nameLong: "The name must be {max} characters or fewer.",
    emailInvalid: "Enter an email address in the right format, like name@example.com.",
    emailLong: "The email address must be {max} characters or fewer.",
    phoneInvalid:
      "Enter a phone number with 6 to 20 digits. You can use +, spaces, dashes and brackets.",
    remaining: "You have {n} characters remaining.",
    remainingOne: "You have 1 character remaining.",
    over: "You have {n} characters too many.",
    overOne: "You have 1 character too many.",
    sending: "Sending your feedback…",
    serverRejected: "The feedback could not be accepted: {message}",
    tooMany: "Too many submissions have come from your connection recently. " +
      "Wait a few minutes, then send the form again. Your answers are still here.",
    unreachable: "Your feedback has not been sent: the feedback service cannot be reached. " +
      "Check your connection and send the form again. Your answers are still here.",
    serverError: "Your feedback has not been sent because of a problem on our side. " +
      "Please send the form again in a few minutes. Your answers are still here.",
    discarded: "Thank you for your feedback.",
    receiptTitle: "Thank you. Your feedback has been received",
    receiptIntro: "Keep this ticket number and private key. With them you can follow your " +
      "feedback, add information if we ask for it, and tell us whether you are satisfied.",
    number: "Ticket number",
    key: "Private key",
    submitted: "Received",
    firstResponse: "First response due by",
    resolution: "Resolution due by",
    copyNumber: "Copy ticket number",
    copyKey: "Copy private key",
    copiedNumber: "Ticket number copied.",
    copiedKey: "Private key copied.",
    copyFailed: "Could not copy automatically. The text is selected: press Ctrl+C (or Cmd+C) " +
      "to copy it.",
    warningTitle: "The private key is shown only once",
    warning: "We store only a scrambled form of the key, so nobody, including our staff, can " +
      "show it to you again or recover it if it is lost. Copy it, print this receipt, or save " +
      "the tracking link below. Anyone who has both the number and the key can read the " +
      "history of this ticket, so keep the key private.",
    trackLink: "Track this ticket",
    trackHint: "The link contains your number and key. Bookmark it only on a device you trust.",
    print: "Print receipt",
  },
};

const LIMITS = { subject: 200, description: 5000, location: 200, name: 100, email: 254 };
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE = /^\+?[\d\s().-]+$/;
const COUNT_ANNOUNCE_DELAY_MS = 1000;

// Server field names (as in the POST body; contact fields may come dotted) -> form control ids.
const FIELD_IDS = {
  type: "fb-type",
  category: "fb-category",
  subject: "fb-subject",
  description: "fb-description",
  location: "fb-location",
  name: "fb-name",
  email: "fb-email",
  phone: "fb-phone",
  consent_to_contact: "fb-consent-contact",
  consent_to_publish: "fb-consent-publish",
};

const clean = (value) => value.normalize("NFC").trim();

function validate(v, m) {
  const errors = {};
  const tooLong = (field, key) => {
    if (charCount(v[field]) > LIMITS[field]) errors[field] = format(m[key], { max: LIMITS[field] });
  };
  if (!v.type) errors.type = m.typeRequired;
  if (!v.category) errors.category = v.noCategories ? m.categoriesUnavailable : m.categoryRequired;
  if (!v.subject) errors.subject = m.subjectRequired;
  else tooLong("subject", "subjectLong");
  if (!v.description) errors.description = m.descriptionRequired;
  else tooLong("description", "descriptionLong");
  tooLong("location", "locationLong");
  tooLong("name", "nameLong");
  if (v.email) {
    if (!EMAIL.test(v.email)) errors.email = m.emailInvalid;
    else tooLong("email", "emailLong");
  }
  if (v.phone) {
    const digits = v.phone.replace(/\D/g, "").length;
    if (!PHONE.test(v.phone) || digits < 6 || digits > 20) errors.phone = m.phoneInvalid;
  }
  return errors;
}

function toPayload(v) {
  const payload = {
    type: v.type,
    category: v.category,
    subject: v.subject,
    description: v.description,
    consent_to_publish: v.consentToPublish,
    language: language(),
  };
  if (v.location) payload.location = v.location;
  const contact = {};
  for (const field of ["name", "email", "phone"]) if (v[field]) contact[field] = v[field];
  if (Object.keys(contact).length) {
    contact.consent_to_contact = v.consentToContact;
    payload.contact = contact;
  }
  return payload;
}

async function copyText(text, source) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API or no permission: select the text and try the legacy command.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

function initFeedbackForm(root) {
  const m = pickMessages(MESSAGES);
  const form = root.querySelector("form");
  const $ = (id) => root.querySelector(`#${id}`);
  const select = $("fb-category");
  const retry = $("fb-category-retry");
  const description = $("fb-description");
  const counter = $("fb-description-count");
  const counterLive = $("fb-description-count-live");
  const summary = $("fb-summary");
  const status = $("fb-status");
  const submit = $("fb-submit");
  const honeypot = $("fb-website");
  let readyAt = performance.now();
  let busy = false;
  let idempotencyKey = null;
  let lastBody = null;
  let announceTimer = 0;

  // --- categories -------------------------------------------------------------------------
  async function loadCategories() {
    retry.hidden = true;
    select.disabled = true;
    select.replaceChildren(h("option", { value: "" }, m.loadingCategories));
    const result = await getCategories();
    if (!result.ok || !Array.isArray(result.data?.categories)) {
      select.replaceChildren(h("option", { value: "" }, "—"));
      setFieldError("category", m.categoriesUnavailable);
      retry.hidden = false;
      return;
    }
    const options = [h("option", { value: "" }, m.chooseCategory)];
    for (const parent of result.data.categories) {
      const children = Array.isArray(parent.children) ? parent.children : [];
      if (!children.length) {
        options.push(h("option", { value: parent.code }, categoryName(parent)));
        continue;
      }
      const general = format(m.categoryGeneral, { name: categoryName(parent) });
      options.push(h("optgroup", { label: categoryName(parent) },
        h("option", { value: parent.code }, general),
        children.map((child) => h("option", { value: child.code }, categoryName(child)))));
    }
    select.replaceChildren(...options);
    select.disabled = false;
    setFieldError("category", "");
  }
  retry.addEventListener("click", async () => {
    await loadCategories();
    (select.disabled ? retry : select).focus();
  });

  // --- character count --------------------------------------------------------------------
  function countMessage() {
    const left = LIMITS.description - charCount(description.value);
    if (left === 1) return m.remainingOne;
    if (left >= 0) return format(m.remaining, { n: left.toLocaleString() });
    return left === -1 ? m.overOne : format(m.over, { n: (-left).toLocaleString() });
  }
  function updateCount() {
    const text = countMessage();
    counter.textContent = text;
    counter.classList.toggle("cl-count--over", charCount(description.value) > LIMITS.description);
    // Screen readers hear the count once typing pauses, not on every keystroke.
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      if (counterLive.textContent !== text) counterLive.textContent = text;
    }, COUNT_ANNOUNCE_DELAY_MS);
  }
  description.addEventListener("input", updateCount);
  counter.textContent = countMessage();

  // --- errors -----------------------------------------------------------------------------
  function controlsFor(field) {
    const id = FIELD_IDS[field];
    if (!id) return [];
    const node = $(id);
    if (!node) return [];
    return node.tagName === "FIELDSET" ? [...node.querySelectorAll("input")] : [node];
  }
  function setFieldError(field, message) {
    const id = FIELD_IDS[field];
    const error = id && $(`${id}-error`);
    if (!error) return;
    error.textContent = message;
    error.hidden = !message;
    const group = $(id).tagName === "FIELDSET"; // the fieldset itself is described by the error
    for (const control of controlsFor(field)) {
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
      if (group) continue;
      const described = (control.getAttribute("aria-describedby") || "")
        .split(" ").filter((token) => token && token !== error.id);
      if (message) described.unshift(error.id);
      if (described.length) control.setAttribute("aria-describedby", described.join(" "));
      else control.removeAttribute("aria-describedby");
    }
    $(id).closest(".cl-field")?.classList.toggle("cl-field--error", Boolean(message));
  }
  function showErrors(errors, extra = []) {
    for (const field of Object.keys(FIELD_IDS)) setFieldError(field, errors[field] || "");
    const list = summary.querySelector("ul");
    const items = Object.entries(errors).map(([field, message]) => {
      const target = controlsFor(field)[0];
      if (!target) return h("li", {}, message);
      const link = h("a", { href: `#${target.id}` }, message);
      link.addEventListener("click", (event) => {
        // Focus the field ourselves: Material's instant navigation would treat it as a page link.
        event.preventDefault();
        event.stopPropagation();
        target.focus();
        target.scrollIntoView({ block: "center" });
      });
      return h("li", {}, link);
    });
    list.replaceChildren(...items, ...extra.map((message) => h("li", {}, message)));
    summary.querySelector("h2").textContent = m.summaryTitle;
    summary.hidden = !list.children.length;
    if (!summary.hidden) summary.focus();
  }

  // --- submission -------------------------------------------------------------------------
  function values() {
    const text = (name) => clean(form.elements[name].value);
    return {
      type: form.querySelector('input[name="type"]:checked')?.value || "",
      category: select.disabled ? "" : select.value,
      noCategories: !retry.hidden,
      subject: text("subject"),
      description: text("description"),
      location: text("location"),
      name: text("name"),
      email: text("email"),
      phone: text("phone"),
      consentToContact: form.elements.consent_to_contact.checked,
      consentToPublish: form.elements.consent_to_publish.checked,
    };
  }

  function finish(node) {
    root.replaceChildren(node);
    const heading = node.querySelector("h2") || node;
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy) return;
    const v = values();
    const errors = validate(v, m);
    showErrors(errors);
    if (Object.keys(errors).length) return;
    // Bots fill every field and submit at once: accept nothing from them, and say nothing.
    if (honeypot.value || performance.now() - readyAt < minFillSeconds() * 1000) {
      finish(h("section", { class: "cl-done" }, h("h2", {}, m.discarded)));
      return;
    }
    const payload = toPayload(v);
    const body = JSON.stringify(payload);
    // One key per distinct submission: a retry of the same answers reuses it, so a lost
    // response never creates a second ticket.
    if (body !== lastBody) {
      idempotencyKey = randomId();
      lastBody = body;
    }
    busy = true;
    submit.setAttribute("aria-disabled", "true");
    status.textContent = m.sending;
    const result = await submitFeedback(payload, idempotencyKey);
    busy = false;
    submit.removeAttribute("aria-disabled");
    status.textContent = "";
    if (result.ok && result.data?.number && result.data?.key) {
      finish(receipt(result.data));
      return;
    }
    if (result.status >= 400 && result.status < 500 && result.status !== 429) {
      lastBody = null; // the server stored nothing; a corrected form gets a fresh key
    }
    const serverFields = result.error?.fields;
    if (result.status === 400 && serverFields && Object.keys(serverFields).length) {
      const mapped = {};
      const extra = [];
      for (const [name, message] of Object.entries(serverFields)) {
        const field = name.replace(/^contact\./, "");
        if (FIELD_IDS[field]) mapped[field] = String(message);
        else extra.push(String(message));
      }
      showErrors(mapped, extra);
    } else if (result.status === 429) {
      showErrors({}, [m.tooMany]);
    } else if (result.status === 0) {
      showErrors({}, [m.unreachable]);
    } else if (result.status >= 500 || !result.error) {
      showErrors({}, [m.serverError]);
    } else {
      showErrors({}, [format(m.serverRejected, { message: result.error.message || "" })]);
    }
  }

  // --- receipt ----------------------------------------------------------------------------
  function receipt(ticket) {
    const live = h("p", { class: "cl-status", role: "status", "aria-live": "polite" });
    const numberCode = h("code", { class: "cl-secret", id: "fb-receipt-number" }, ticket.number);
    const keyCode = h("code", { class: "cl-secret", id: "fb-receipt-key" }, ticket.key);
    const copyButton = (label, text, source, done) => {
      const button = h("button", { type: "button", class: "md-button cl-copy" }, label);
      button.addEventListener("click", async () => {
        live.textContent = "";
        const ok = await copyText(text, source);
        live.textContent = ok ? done : m.copyFailed;
      });
      return button;
    };
    const track = new URL("track/", SITE_ROOT);
    track.hash = `number=${encodeURIComponent(ticket.number)}&key=${encodeURIComponent(ticket.key)}`;
    const printButton = h("button", { type: "button", class: "md-button" }, m.print);
    printButton.addEventListener("click", () => window.print());
    const deadlines = ticket.deadlines || {};
    const row = (label, value) => value && [h("dt", {}, label), h("dd", {}, value)];
    return h("section", { class: "cl-receipt", id: "fb-receipt", "aria-labelledby": "fb-receipt-title" },
      h("h2", { id: "fb-receipt-title" }, m.receiptTitle),
      h("p", {}, m.receiptIntro),
      h("dl", { class: "cl-facts" },
        h("dt", {}, m.number),
        h("dd", {}, numberCode, " ", copyButton(m.copyNumber, ticket.number, numberCode, m.copiedNumber)),
        h("dt", {}, m.key),
        h("dd", {}, keyCode, " ", copyButton(m.copyKey, ticket.key, keyCode, m.copiedKey)),
        row(m.submitted, ticket.submitted_at && timeElement(ticket.submitted_at)),
        row(m.firstResponse, deadlines.first_response && timeElement(deadlines.first_response)),
        row(m.resolution, deadlines.resolution && timeElement(deadlines.resolution))),
      live,
      h("div", { class: "admonition warning" },
        h("p", { class: "admonition-title" }, m.warningTitle),
        h("p", {}, m.warning)),
      h("p", {}, h("a", { href: track.href, id: "fb-track-link" }, m.trackLink), " ",
        h("span", { class: "cl-hint" }, m.trackHint)),
      h("p", { class: "cl-actions" }, printButton));
  }

  form.addEventListener("submit", onSubmit);
  loadCategories();
  submit.disabled = false;
  readyAt = performance.now(); // the fill time counts from when the form became usable
}

onEachPage('[data-clearloop="feedback-form"]', initFeedbackForm);
