// "Give feedback" form: categories from the API, validation mirroring the server's limits,
// accessible errors, bot screening (honeypot + minimum fill time) and the one-time receipt.
import {
  categoryName, foldPhone, pageUrl, charCount, format, getCategories, h, language, minFillSeconds,
  loadMessages, onEachPage, randomId, submitFeedback, timeElement, tooManyMessage,
} from "./api.js";

const LIMITS = { subject: 200, description: 5000, location: 200, name: 100, email: 254 };
// Same patterns as the server (api/chalicelib/domain/feedback.py), after the same width folding.
const EMAIL = /^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$/;
const PHONE = /^\+?[0-9 ().-]+$/;
const PHONE_MAX = 40;
const ANNOUNCE_DELAY_MS = 1000;
// Server field names (contact fields may come as "contact.email") -> control ids.
const IDS = {
  type: "fb-type", category: "fb-category", subject: "fb-subject",
  description: "fb-description", location: "fb-location", name: "fb-name", email: "fb-email",
  phone: "fb-phone", consent_to_contact: "fb-consent-contact",
  consent_to_publish: "fb-consent-publish", photos: "fb-photos",
};

async function copyText(text, source) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API or no permission: select the text and try the legacy command.
    getSelection().selectAllChildren(source);
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

async function initFeedbackForm(root) {
  const m = await loadMessages("feedback-form");
  const $ = (id) => root.querySelector(`#${id}`);
  const form = $("fb-form");
  const select = $("fb-category");
  const retry = $("fb-category-retry");
  const text = $("fb-description");
  const counter = $("fb-description-count");
  const counterLive = $("fb-description-count-live");
  const summary = $("fb-summary");
  const status = $("fb-status");
  const submit = $("fb-submit");
  let readyAt = 0;
  let busy = false;
  let idempotencyKey = "";
  let lastBody = "";
  let announceTimer = 0;
  // Photos need JavaScript (they go straight to storage): the picker is shown only here. Its
  // module and stylesheet load when someone reaches for it (most feedback has no photo), and a
  // choice made before they arrive is handed to it once they have.
  let picker = null;
  const input = $("fb-photos");
  if (input) {
    $("fb-photos-field").hidden = false;
    let loading = null;
    const load = () => (loading ||= import("./photos.js").then(({ photoPicker }) => {
      picker = photoPicker(input, $("fb-photos-list"), (text) => setError("photos", text));
    }));
    for (const type of ["focus", "pointerdown"]) input.addEventListener(type, load, { once: true });
    input.addEventListener("change", async () => {
      if (picker) return; // photos.js has its own listener by now
      await load();
      input.dispatchEvent(new Event("change"));
    });
  }

  // The visible label of a field, without "(optional)": messages then follow the page language.
  const labelOf = (field) => {
    const node = $(IDS[field]);
    const label = node?.tagName === "FIELDSET" ? node.querySelector("legend") : node?.labels?.[0];
    return (label?.textContent || field).replace(/[(（][^)）]*[)）]/g, "").trim();
  };
  const controlsOf = (field) => {
    const node = $(IDS[field] || "-");
    if (!node) return [];
    return node.tagName === "FIELDSET" ? [...node.querySelectorAll("input")] : [node];
  };

  function validate(v) {
    const errors = {};
    const limit = (field) => {
      if (charCount(v[field]) > LIMITS[field]) {
        const max = LIMITS[field].toLocaleString();
        errors[field] = format(m.tooLong, { label: labelOf(field), max });
      }
    };
    if (!v.type) errors.type = m.typeRequired;
    if (!v.category) errors.category = retry.hidden ? m.categoryRequired : m.noCategories;
    if (!v.subject) errors.subject = m.subjectRequired;
    if (!v.description) errors.description = m.descriptionRequired;
    ["subject", "description", "location", "name"].forEach(limit);
    const email = v.email.normalize("NFKC");
    if (email && !EMAIL.test(email)) errors.email = m.emailInvalid;
    else limit("email");
    const phone = foldPhone(v.phone);
    const digits = phone.replace(/[^0-9]/g, "").length;
    if (phone && (!PHONE.test(phone) || phone.length > PHONE_MAX || digits < 6 || digits > 20)) {
      errors.phone = m.phoneInvalid;
    }
    return errors;
  }

  function values() {
    const get = (name) => form.elements[name].value.normalize("NFC").trim();
    return {
      type: form.querySelector("input[name=type]:checked")?.value || "",
      category: select.disabled ? "" : select.value,
      subject: get("subject"),
      description: get("description"),
      location: get("location"),
      name: get("name"),
      email: get("email"),
      phone: get("phone"),
    };
  }

  function payloadOf(v) {
    const payload = {
      type: v.type, category: v.category, subject: v.subject, description: v.description,
      consent_to_publish: form.elements.consent_to_publish.checked, language: language(),
    };
    if (v.location) payload.location = v.location;
    const contact = {};
    for (const field of ["name", "email", "phone"]) if (v[field]) contact[field] = v[field];
    if (Object.keys(contact).length) {
      contact.consent_to_contact = form.elements.consent_to_contact.checked;
      payload.contact = contact;
    }
    return payload;
  }

  // --- categories ---------------------------------------------------------------------------
  async function loadCategories() {
    retry.hidden = true;
    select.disabled = true;
    select.replaceChildren(h("option", { value: "" }, m.loading));
    const result = await getCategories();
    const list = result.ok && result.data?.categories;
    if (!Array.isArray(list)) {
      select.replaceChildren(h("option", { value: "" }, "—"));
      retry.hidden = false;
      setError("category", m.noCategories);
      return;
    }
    select.replaceChildren(h("option", { value: "" }, m.choose), ...list.map((parent) => {
      const name = categoryName(parent);
      const children = parent.children || [];
      if (!children.length) return h("option", { value: parent.code }, name);
      return h("optgroup", { label: name },
        h("option", { value: parent.code }, format(m.general, { name })),
        children.map((child) => h("option", { value: child.code }, categoryName(child))));
    }));
    select.disabled = false;
    setError("category", "");
  }
  retry.addEventListener("click", async () => {
    await loadCategories();
    (select.disabled ? retry : select).focus();
  });

  // --- character count ----------------------------------------------------------------------
  function updateCount(announce = true) {
    const left = LIMITS.description - charCount(text.value);
    const n = Math.abs(left).toLocaleString();
    const message = left >= 0
      ? (left === 1 ? m.remainingOne : format(m.remaining, { n }))
      : (left === -1 ? m.overOne : format(m.over, { n }));
    counter.textContent = message;
    counter.classList.toggle("cl-count--over", left < 0);
    // Screen readers hear the count once typing pauses, not on every keystroke.
    clearTimeout(announceTimer);
    if (announce) announceTimer = setTimeout(() => {
      counterLive.textContent = message;
    }, ANNOUNCE_DELAY_MS);
  }
  text.addEventListener("input", updateCount);

  // --- errors -------------------------------------------------------------------------------
  function setError(field, message) {
    const error = $(`${IDS[field]}-error`);
    if (!error) return;
    error.textContent = message;
    error.hidden = !message;
    const group = $(IDS[field]).tagName === "FIELDSET"; // the fieldset points at its error
    for (const control of controlsOf(field)) {
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
      if (group) continue;
      const ids = (control.getAttribute("aria-describedby") || "").split(" ")
        .filter((id) => id && id !== error.id);
      if (message) ids.unshift(error.id);
      if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
      else control.removeAttribute("aria-describedby");
    }
    $(IDS[field]).closest(".cl-field").classList.toggle("cl-field--error", Boolean(message));
  }

  function showErrors(errors, general = []) {
    for (const field of Object.keys(IDS)) setError(field, errors[field] || "");
    const items = Object.entries(errors).map(([field, message]) => {
      const target = controlsOf(field)[0];
      const link = h("a", { href: `#${target.id}` }, message);
      link.addEventListener("click", (event) => {
        // Focus the field here: Material's instant navigation would handle it as a page link.
        event.preventDefault();
        event.stopPropagation();
        target.focus();
      });
      return h("li", {}, link);
    });
    summary.querySelector("ul").replaceChildren(...items, ...general.map((g) => h("li", {}, g)));
    summary.querySelector("h2").textContent = m.summary;
    summary.hidden = !items.length && !general.length;
    if (!summary.hidden) summary.focus();
  }

  // --- submission ---------------------------------------------------------------------------
  function finish(node) {
    root.replaceChildren(node);
    const heading = node.querySelector("h2");
    heading.tabIndex = -1;
    heading.focus();
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy) return;
    const v = values();
    const errors = validate(v);
    showErrors(errors);
    if (Object.keys(errors).length) return;
    // Bots fill every field and post at once: send nothing for them, and say nothing either.
    if ($("fb-website").value || performance.now() - readyAt < minFillSeconds() * 1000) {
      finish(h("section", { class: "cl-done" }, h("h2", {}, m.discarded)));
      return;
    }
    const payload = payloadOf(v);
    const body = JSON.stringify(payload);
    // One key per distinct submission: resending the same answers after a lost response
    // returns the ticket already created instead of creating a second one.
    if (body !== lastBody) {
      idempotencyKey = randomId();
      lastBody = body;
    }
    busy = true;
    submit.setAttribute("aria-disabled", "true");
    status.textContent = m.sending;
    const result = await submitFeedback(payload, idempotencyKey);
    if (result.ok && result.data?.number && result.data?.key) {
      let photos = [];
      if (picker?.files().length) {
        status.textContent = m.uploadingPhotos;
        photos = await picker.upload(result.data.number, result.data.key);
      }
      finish(receipt(result.data, photos));
      return;
    }
    busy = false;
    submit.removeAttribute("aria-disabled");
    status.textContent = "";
    const fields = result.error?.fields || {};
    if (result.status === 400 && Object.keys(fields).length) {
      // The server sends reasons like "is required": show "<label> <reason>" by the field.
      const mapped = {};
      const general = [];
      for (const [name, reason] of Object.entries(fields)) {
        const field = name.replace(/^contact\./, "");
        if (IDS[field]) mapped[field] = `${labelOf(field)} ${reason}`;
        else general.push(`${name} ${reason}`);
      }
      showErrors(mapped, general);
    } else if (result.status === 429) {
      showErrors({}, [tooManyMessage(m, result.retryAfter)]);
    } else if (result.status === 0) {
      showErrors({}, [m.unreachable]);
    } else if (result.status >= 500 || !result.error) {
      showErrors({}, [m.serverError]);
    } else {
      showErrors({}, [format(m.rejected, { message: result.error.message || result.status })]);
    }
  }

  // --- receipt ------------------------------------------------------------------------------
  function receipt(ticket, photos = []) {
    const live = h("p", { class: "cl-status", role: "status" });
    const secret = (id, value, label, done) => {
      const code = h("code", { class: "cl-secret", id }, value);
      const button = h("button", { type: "button", class: "md-button cl-copy" }, label);
      button.addEventListener("click", async () => {
        live.textContent = "";
        live.textContent = (await copyText(value, code)) ? done : m.copyFailed;
      });
      return h("dd", {}, code, " ", button);
    };
    const track = pageUrl("track/");
    track.hash = `number=${encodeURIComponent(ticket.number)}&key=${encodeURIComponent(ticket.key)}`;
    const print = h("button", { type: "button", class: "md-button" }, m.print);
    print.addEventListener("click", () => window.print());
    const when = (label, iso) => iso && [h("dt", {}, label), h("dd", {}, timeElement(iso))];
    const deadlines = ticket.deadlines || {};
    return h("section", { class: "cl-receipt", id: "fb-receipt" },
      h("h2", {}, m.receiptTitle),
      h("p", {}, m.receiptIntro),
      h("dl", { class: "cl-facts" },
        h("dt", {}, m.number), secret("fb-receipt-number", ticket.number, m.copyNumber, m.copiedNumber),
        h("dt", {}, m.key), secret("fb-receipt-key", ticket.key, m.copyKey, m.copiedKey),
        when(m.received, ticket.submitted_at),
        when(m.firstResponse, deadlines.first_response),
        when(m.resolution, deadlines.resolution)),
      photos.length > 0 && [h("h3", {}, m.photosTitle), h("ul", { id: "fb-receipt-photos" },
        photos.map((p) => h("li", {}, format(p.ok ? m.photoAttached : m.photoFailed, p))))],
      live,
      h("div", { class: "admonition warning" },
        h("p", { class: "admonition-title" }, m.warningTitle), h("p", {}, m.warning)),
      h("p", {}, h("a", { href: track.href, id: "fb-track-link" }, m.track), " ",
        h("span", { class: "cl-hint" }, m.trackHint)),
      h("p", {}, print));
  }

  form.addEventListener("submit", onSubmit);
  updateCount(false);
  loadCategories();
  submit.disabled = false;
  readyAt = performance.now(); // the minimum fill time counts from here
}

onEachPage('[data-clearloop="feedback-form"]', initFeedbackForm);
