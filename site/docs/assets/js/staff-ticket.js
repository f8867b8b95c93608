// One ticket for staff: facts, timeline (public and internal entries told apart in words),
// replies and notes with canned responses, the status moves the API allows, triage saved with
// If-Match (a 409 shows a field-by-field diff) and the audited contact reveal.
import { categoryName, getCategories, h, onEachPage, timeElement } from "./api.js";
import {
  api, deadlineBadge, fieldError, hashNumber, problem, statusName, typeName, whenSignedIn, words,
} from "./staff-core.js";

const FIELDS = ["type", "category", "priority", "department", "assignee", "subject", "public_summary"];
// Words for each target status: [button, text label, hint]. Which targets are offered comes
// only from the API's allowed_transitions; whether a text is required, from its answer.
const OPTIONAL = "Message to the submitter (optional)";
const MOVES = {
  acknowledged: ["Acknowledge", OPTIONAL],
  in_progress: ["Start work", OPTIONAL],
  awaiting_info: ["Ask for information", "Question for the submitter", "The SLA clock stops until they answer."],
  resolved: ["Resolve", "Resolution (public)", "What was done. The submitter reads it and can rate it."],
  closed: ["Close", OPTIONAL],
  rejected: ["Reject", "Reason (public)", "Why it is not taken forward, e.g. spam or out of scope."],
  merged: ["Merge into another ticket", "Number of the surviving ticket", "This ticket then points to that one."],
};
const STATES = { ok: "on track", due_soon: "due soon", met: "met", breached: "breached" };
const KINDS = { submitter_message: "Message from the submitter", contact_viewed: "Contact details read",
  sla_breached: "SLA breached", sla_due_soon: "SLA due soon", triaged: "Triage" };

function initTicket(root) {
  const $ = (id) => root.querySelector(`#${id}`);
  const field = (name) => $(`st-f-${name}`);
  const say = (id, text) => {
    $(id).textContent = text;
  };
  let ticket = null; // the latest view from the API
  let base = null; // the view the triage form was filled from (its version goes in If-Match)
  let pending = null; // the current view found by a conflict, shown on "Reload"
  const staffByDept = {};
  const categories = []; // [code, name, the category's names by language, label with parent]
  const categoryLabel = (code) => {
    const [, name, names] = categories.find((c) => c[0] === code) || [code, code];
    return names?.[ticket.language] || name; // the API fills {category} in the ticket's language
  };
  let canned = [];
  let inserted = null; // {id, text} of the last canned response inserted
  let move = null;
  let request = 0;

  const path = (suffix = "") => `/v1/staff/tickets/${encodeURIComponent(ticket.number)}${suffix}`;
  const alertBox = (text) => {
    say("st-alert", text);
    $("st-alert").hidden = !text;
  };
  const fields = (result) => result?.error?.fields || {};
  const triageErrors = (result) => FIELDS.forEach((name) => fieldError(field(name), fields(result)[name]));
  const moveError = (result) => {
    const merge = move === "merged";
    const message = fields(result)[merge ? "merge_into" : "text"];
    fieldError($(merge ? "st-move-number" : "st-move-text"), message, $("st-move-error"));
  };

  // --- reading ------------------------------------------------------------------------------
  async function open(number, focus) {
    const mine = ++request;
    alertBox("");
    $("st-ticket").hidden = true;
    if (!number) return;
    say("st-status", `Opening ${number}…`);
    const result = await api("GET", `/v1/staff/tickets/${encodeURIComponent(number)}`);
    if (mine !== request) return;
    say("st-status", "");
    if (!result.ok) return alertBox(problem(result));
    $("st-number").value = result.data.number;
    if (hashNumber() !== result.data.number) history.replaceState(history.state, "", `#${result.data.number}`);
    ticket = null;
    await adopt(result.data);
    $("st-ticket").hidden = false;
    if (focus) $("st-title").focus();
  }

  /** Show a fresh view; the triage form follows it unless that would lose the user's edits. */
  async function adopt(next) {
    const same = base && FIELDS.every((f) => base[f] === next[f]);
    const other = !ticket || next.number !== ticket.number;
    const refill = other || !Object.keys(edits()).length;
    const categoryChanged = other || next.category !== ticket.category;
    ticket = next;
    if (refill || same) base = next;
    if (refill) await fillTriage();
    say("st-title", `${next.number}: ${next.subject}`);
    $("st-badges").replaceChildren(deadlineBadge(next), " ",
      h("span", { class: "cl-tag" }, statusName(next.status)), " ",
      h("span", { class: "cl-tag" }, next.priority),
      next.escalated ? [" ", h("span", { class: "cl-tag cl-tag--late" }, "Escalated")] : []);
    const fact = (name, value) => value !== null && value !== undefined && value !== "" &&
      [h("dt", {}, name), h("dd", {}, value)];
    const when = (iso) => iso && timeElement(iso);
    const sla = next.sla || {};
    const target = (kind) => sla[kind] && [when(sla[kind].deadline), ` (${STATES[sla[kind].state] || sla[kind].state})`];
    $("st-facts").replaceChildren(...[
      fact("Status", statusName(next.status)), fact("Type", typeName(next.type)),
      fact("Category", (categories.find((c) => c[0] === next.category) || [])[3] || next.category), fact("Department", next.department),
      fact("Assignee", next.assignee || "Unassigned"), fact("Channel", words(next.channel)),
      fact("Received", when(next.submitted_at)), fact("First response due", target("first_response")),
      fact("Resolution due", target("resolution")), fact("Location", next.location),
      fact("Resolution", next.resolution), fact("Reason", next.reason),
      fact("Merged into", next.merged_into), fact("Duplicates merged here", next.merged_duplicates?.join(", ")),
      fact("Rating", next.rating), fact("Reopened", next.reopen_count || null),
    ].filter(Boolean).flat());
    say("st-description", next.description);
    renderTimeline();
    renderMoves();
    if (categoryChanged) loadCanned();
    $("st-contact-reveal").hidden = !next.has_contact;
    if (!next.has_contact) showContact([["Contact details", "None were given."]]);
    else if (other) showContact([]);
    const pub = next.publication || {};
    say("st-pub-consent", (next.consent_to_publish
      ? "The submitter agreed that an anonymised summary may be published."
      : "The submitter did not agree to publication: this ticket cannot go on the board.") +
      (pub.state && pub.state !== "none" ? ` Publication: ${pub.state}${pub.on_board ? ", on the board" : ""}.` : ""));
    $("st-pub-link").href = `../publication/#${next.number}`;
  }

  function renderTimeline() {
    $("st-timeline").replaceChildren(...(ticket.timeline || []).map((event) => {
      const data = event.data || {};
      const details = [];
      if (data.from && data.to) details.push(`${statusName(data.from)} → ${statusName(data.to)}`);
      for (const [name, [was, now]] of Object.entries(data.changes || {})) {
        details.push(`${words(name)}: ${was ?? "none"} → ${now ?? "none"}`);
      }
      const kind = event.public ? "public" : "internal";
      return h("li", { class: `cl-event cl-event--${kind}` },
        h("p", { class: "cl-event-head" },
          h("span", { class: `cl-tag cl-tag--${kind}` }, event.public ? "Public" : "Internal"), " ",
          h("strong", {}, KINDS[event.kind] || words(event.kind)), " ", timeElement(event.at), " ",
          h("span", { class: "cl-hint" }, `by ${event.actor_label || event.actor || "unknown"}`)),
        details.length ? h("p", { class: "cl-event-text" }, details.join("; ")) : null,
        event.text ? h("p", { class: "cl-event-text cl-pre" }, event.text) : null);
    }));
  }

  // --- status moves ---------------------------------------------------------------------------
  function renderMoves() {
    const allowed = ticket.allowed_transitions || [];
    $("st-transitions").replaceChildren(...allowed.map((target) => {
      const button = h("button", { type: "button", class: "md-button", "data-target": target },
        (MOVES[target] || [words(target)])[0]);
      button.addEventListener("click", () => openMove(target));
      return button;
    }));
    $("st-transitions-none").hidden = allowed.length > 0;
    if (move && !allowed.includes(move)) closeMove();
  }
  function openMove(target) {
    move = target;
    const [verb, label = OPTIONAL, hint = ""] = MOVES[target] || [words(target)];
    const merge = target === "merged";
    say("st-move-label", label);
    say("st-move-hint", hint);
    say("st-move-go", verb);
    $("st-move-text").hidden = merge;
    $("st-move-number").hidden = !merge;
    $("st-move-label").htmlFor = merge ? "st-move-number" : "st-move-text";
    moveError(null);
    $("st-move").hidden = false;
    $(merge ? "st-move-number" : "st-move-text").focus();
  }
  function closeMove() {
    move = null;
    $("st-move").hidden = true;
    $("st-move-text").value = $("st-move-number").value = "";
  }
  $("st-move-cancel").addEventListener("click", closeMove);
  $("st-move").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { status: move };
    const text = $("st-move-text").value.trim();
    if (move === "merged") body.merge_into = $("st-move-number").value.trim();
    else if (text) body.text = text;
    say("st-move-status", "Saving…");
    const result = await api("POST", path("/transitions"), { body, headers: { "If-Match": String(ticket.version) } });
    moveError(result);
    if (result.ok) {
      say("st-move-status", `Status changed to ${statusName(result.data.status)}.`);
      closeMove();
      await adopt(result.data);
      $("st-title").focus();
    } else if (result.error?.code === "stale_version") {
      const fresh = await api("GET", path());
      if (fresh.ok) await adopt(fresh.data);
      say("st-move-status", `Not saved: someone else changed this ticket, which is now ${statusName(ticket.status)}. It has been reloaded; check it and try again.`);
    } else {
      say("st-move-status", `Not saved: ${problem(result)}`);
    }
  });

  // --- replies and notes ----------------------------------------------------------------------
  const isPublic = () => $("st-reply").elements.public.value === "true";
  const syncReplyButton = () => say("st-reply-send", isPublic() ? "Send reply" : "Add note");
  $("st-reply").addEventListener("change", syncReplyButton);
  async function loadCanned() {
    const result = await api("GET", `/v1/staff/canned?category=${encodeURIComponent(ticket.category)}`);
    canned = result.data?.canned || [];
    $("st-canned").replaceChildren(h("option", { value: "" }, canned.length ? "Choose one" : "None for this category"),
      ...canned.map((c) => h("option", { value: c.id }, c.title)));
  }
  $("st-canned-insert").addEventListener("click", () => {
    const choice = canned.find((c) => c.id === $("st-canned").value);
    if (!choice) return;
    // The same placeholders the API fills in when it gets the canned_id alone.
    const values = { number: ticket.number, category: categoryLabel(ticket.category), department: ticket.department };
    const text = choice.text.replace(/\{(\w+)\}/g, (slot, name) => values[name] ?? slot);
    const area = $("st-reply-text");
    area.value = area.value.trim() ? `${area.value.trimEnd()}\n\n${text}` : text;
    inserted = { id: choice.id, text: area.value };
    area.focus();
  });
  $("st-reply").addEventListener("submit", async (event) => {
    event.preventDefault();
    const area = $("st-reply-text");
    const body = { public: isPublic() };
    // Unchanged canned text goes by id, so the server renders it from the stored template.
    if (inserted && inserted.text === area.value) body.canned_id = inserted.id;
    else body.text = area.value;
    say("st-reply-status", "Sending…");
    const result = await api("POST", path("/replies"), { body });
    fieldError(area, fields(result).text || fields(result).canned_id);
    if (!result.ok) return say("st-reply-status", `Not sent: ${problem(result)}`);
    area.value = "";
    inserted = null;
    say("st-reply-status", body.public ? "Reply sent. The submitter can read it." : "Internal note added.");
    await adopt(result.data);
  });

  // --- triage -----------------------------------------------------------------------------------
  async function fillTriage() {
    if (!categories.length) {
      const result = await getCategories();
      const options = [];
      for (const parent of result.data?.categories || []) {
        for (const c of [parent, ...(parent.children || [])]) {
          const label = c === parent ? categoryName(c) : `${categoryName(parent)}: ${categoryName(c)}`;
          categories.push([c.code, categoryName(c), typeof c.name === "object" ? c.name : null, label]);
          options.push(h("option", { value: c.code }, label));
        }
      }
      field("category").replaceChildren(...options);
    }
    if (!Object.keys(staffByDept).length) {
      const result = await api("GET", "/v1/staff/departments");
      for (const d of result.data?.departments || []) staffByDept[d.id] = d;
      field("department").replaceChildren(...Object.values(staffByDept).map((d) => h("option", { value: d.id }, d.name)));
    }
    for (const name of FIELDS) {
      const select = field(name);
      const value = base[name] ?? "";
      if (select.tagName === "SELECT" && name !== "assignee" && ![...select.options].some((o) => o.value === value)) {
        select.append(h("option", { value }, value));
      }
      if (name === "assignee") fillAssignees();
      select.value = value;
    }
    triageErrors(null);
  }
  function fillAssignees() {
    const select = field("assignee");
    const people = staffByDept[field("department").value]?.staff || [];
    const options = [["", "Unassigned"], ...people.map((p) => [p.id, `${p.name} (${p.role})`])];
    if (base.assignee && !people.some((p) => p.id === base.assignee)) options.push([base.assignee, base.assignee]);
    const was = select.value;
    select.replaceChildren(...options.map(([value, text]) => h("option", { value }, text)));
    select.value = options.some(([value]) => value === was) ? was : "";
  }
  field("department").addEventListener("change", fillAssignees);
  function edits() {
    const out = {};
    if (!base) return out;
    for (const name of FIELDS) {
      let value = field(name).value.trim();
      if (!value && (name === "assignee" || name === "public_summary")) value = null;
      if (value !== (base[name] ?? null)) out[name] = value;
    }
    return out;
  }
  $("st-triage").addEventListener("submit", async (event) => {
    event.preventDefault();
    const edit = edits();
    if (!Object.keys(edit).length) return say("st-triage-status", "Nothing to save: no field was changed.");
    say("st-triage-status", "Saving…");
    const result = await api("PATCH", path(), { body: edit, headers: { "If-Match": String(base.version) } });
    triageErrors(result);
    if (result.ok) {
      base = null;
      await adopt(result.data);
      return say("st-triage-status", "Triage saved.");
    }
    if (result.error?.code !== "stale_version") return say("st-triage-status", `Not saved: ${problem(result)}`);
    say("st-triage-status", "Not saved: the ticket changed after you opened it.");
    const fresh = await api("GET", path());
    if (!fresh.ok) return alertBox(problem(fresh));
    pending = fresh.data;
    const show = (value) => (value === null || value === undefined || value === "" ? "—" : String(value));
    const rows = [...FIELDS, "status"].filter((name) => name in edit || base[name] !== pending[name]).map((name) => {
      const theirs = base[name] !== pending[name];
      return h("tr", { class: theirs ? "cl-changed" : null },
        h("th", { scope: "row" }, name === "status" ? "Status" : field(name).labels[0].firstChild.textContent.trim()),
        h("td", {}, show(base[name])),
        h("td", {}, name in edit ? show(edit[name]) : "(not edited)"),
        h("td", {}, show(pending[name]), theirs ? h("strong", {}, " (changed by someone else)") : null));
    });
    $("st-conflict-table").tBodies[0].replaceChildren(...rows);
    $("st-conflict").hidden = false;
    $("st-conflict").focus();
  });
  $("st-conflict-reload").addEventListener("click", async () => {
    $("st-conflict").hidden = true;
    base = null;
    ticket = null;
    await adopt(pending);
    say("st-triage-status", "Reloaded: the form shows the current values.");
    field("type").focus();
  });

  // --- contact details (each read is audited by the API) ----------------------------------------
  function showContact(pairs) {
    $("st-contact").replaceChildren(...pairs.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
    $("st-contact").hidden = !pairs.length;
  }
  $("st-contact-reveal").addEventListener("click", async () => {
    const result = await api("GET", path("/contact"));
    if (!result.ok) return showContact([["Contact details", problem(result)]]);
    const c = result.data.contact || {};
    showContact([["Name", c.name || "—"], ["Email", c.email || "—"], ["Phone", c.phone || "—"],
      ["May be contacted", result.data.consent_to_contact ? "Yes" : "No"]]);
    const fresh = await api("GET", path()); // the timeline now shows the audit entry
    if (fresh.ok) await adopt(fresh.data);
  });

  $("st-open").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = $("st-number").value.trim().toUpperCase();
    if (number) open(number, true);
  });
  const fromHash = () => {
    if (!root.isConnected) return window.removeEventListener("hashchange", fromHash);
    if (hashNumber() && hashNumber() !== ticket?.number) open(hashNumber(), true);
  };
  window.addEventListener("hashchange", fromHash);
  whenSignedIn(root, (member) => {
    root.hidden = !member;
    if (member) {
      syncReplyButton();
      open(hashNumber() || ticket?.number, false);
    }
  });
}

onEachPage('[data-clearloop="staff-ticket"]', initTicket);
