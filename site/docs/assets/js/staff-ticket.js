// One ticket for staff: facts, timeline (public and internal entries told apart in words),
// replies and notes with canned responses, the status moves the API allows, the audited contact
// reveal. Triage has a page of its own (staff-triage.js): each page stays small.
import {
  api, apiBase, categories, deadlineBadge, fieldError, h, hashNumber, href, isOpen, name, problem, timeEl, tr, widget, words,
} from "./staff-core.js";

const STATES = { ok: "on track", due_soon: "due soon" };
const KINDS = { submitter_message: "Message from the submitter", contact_viewed: "Contact details read", sla_breached: "SLA breached", sla_due_soon: "SLA due soon" };
const blank = (v) => v === null || v === undefined || v === "";

widget("staff-ticket", (root, $, say) => {
  const errors = (r) => r?.error?.fields || {};
  let ticket = null;
  let cats = [];
  let canned = [];
  let inserted = null; // the canned response last inserted, and the text it gave
  let move = null;
  let request = 0;
  const path = (suffix = "") => `/v1/staff/tickets/${encodeURIComponent(ticket.number)}${suffix}`;
  const category = (code) => cats.find((c) => c.code === code);

  async function open(number, focus) {
    const mine = ++request;
    say("st-alert");
    $("st-ticket").hidden = true;
    if (!number) return;
    say("st-status", tr("Opening {number}…", { number }));
    const r = await api("GET", `/v1/staff/tickets/${encodeURIComponent(number)}`);
    if (mine !== request || !root.isConnected) return;
    say("st-status");
    if (!r.ok) return say("st-alert", problem(r));
    $("st-number").value = r.data.number;
    if (hashNumber() !== r.data.number) history.replaceState(history.state, "", `#${r.data.number}`);
    ticket = null;
    if (!cats.length) cats = await categories();
    await adopt(r.data);
    $("st-ticket").hidden = false;
    if (focus) $("st-title").focus();
  }

  /** Show a fresh view of the ticket. */
  function adopt(next) {
    const other = next.number !== ticket?.number;
    if (other || next.category !== ticket.category) loadCanned(next.category);
    ticket = next;
    say("st-title", `${next.number}: ${next.subject}`);
    const tag = (text, tone = "") => h("span", { class: `cl-tag ${tone}` }, text);
    $("st-badges").replaceChildren(...[deadlineBadge(next), tag(name(next.status)), tag(next.priority),
      next.escalated && tag(tr("Escalated"), "cl-tag--late")].filter(Boolean));
    const sla = next.sla || {};
    // A target neither met nor breached is "on track" only while open.
    const state = (k) => (isOpen(next) || sla[k].met_at || sla[k].breached_at ? ` (${tr(STATES[sla[k].state] || sla[k].state)})` : "");
    const target = (k) => sla[k] && [timeEl(sla[k].deadline), state(k)];
    const facts = {
      ...next, type: name(next.type), channel: tr(words(next.channel)), status: name(next.status),
      category: category(next.category)?.label || next.category, assignee: next.assignee || tr("Unassigned"),
      submitted_at: timeEl(next.submitted_at), first_response: target("first_response"),
      resolution_due: target("resolution"), merged_duplicates: next.merged_duplicates?.join(", "),
      reopen_count: next.reopen_count || null,
    };
    for (const dd of root.querySelectorAll("[data-fact]")) {
      const value = facts[dd.dataset.fact];
      dd.replaceChildren(...[value ?? ""].flat());
      dd.hidden = dd.previousElementSibling.hidden = blank(value);
    }
    say("st-description", next.description);
    $("st-timeline").replaceChildren(...next.timeline.map(event));
    moves();
    $("st-contact-reveal").hidden = !next.has_contact;
    if (other) contact(next.has_contact ? [] : [[tr("Contact details"), tr("None were given.")]]);
    const pub = next.publication?.state;
    say("st-pub-consent", tr(next.consent_to_publish ? "The submitter agreed that an anonymised summary may be published." : "The submitter did not agree to publication.") +
      (pub && pub !== "none" ? tr(next.publication.on_board ? " Publication: {pub}, on the board." : " Publication: {pub}.", { pub }) : ""));
    $("st-pub-link").href = href("publication", next.number);
    $("st-triage-link").href = href("triage", next.number);
    const abs = (u) => (u[0] === "/" ? apiBase() + u : u); // photo links: S3, or the local API
    if (next.attachments) $("st-photos").replaceChildren(...next.attachments.map((a, i) => h("li", {}, h("a", { href: abs(a.url), target: "_blank" }, h("img", { src: abs(a.thumbnail_url), alt: tr("Photo {n} ({width}×{height})", { n: i + 1, width: a.width, height: a.height }), width: 160 })))));
  }

  function event(e) {
    const data = e.data || {};
    const details = Object.entries(data.changes || {}).map(([f, [was, now]]) => `${tr(words(f))}: ${was ?? tr("none")} → ${now ?? tr("none")}`);
    if (data.from) details.unshift(`${name(data.from)} → ${name(data.to)}`);
    const kind = e.public ? "public" : "internal";
    return h("li", { class: `cl-event cl-event--${kind}` },
      h("p", { class: "cl-event-head" }, h("span", { class: `cl-tag cl-tag--${kind}` }, tr(e.public ? "Public" : "Internal")), " ",
        h("strong", {}, tr(KINDS[e.kind] || words(e.kind))), " ", timeEl(e.at),
        tr(" by ") + (e.actor_label || e.actor) + (e.actor?.startsWith("staff:") ? ` · ${e.actor.slice(6)}` : "")),
      details.length > 0 && h("p", {}, details.join("; ")),
      e.text && h("p", { class: "cl-pre" }, e.text));
  }

  // --- status moves: only the API's allowed_transitions, in its order
  function moves() {
    const box = $("st-transitions");
    const allowed = ticket.allowed_transitions;
    for (const b of box.children) b.hidden = !allowed.includes(b.dataset.target);
    for (const target of allowed) {
      box.append(box.querySelector(`[data-target="${target}"]`) ||
        h("button", { type: "button", class: "md-button", "data-target": target }, name(target)));
    }
    $("st-transitions-none").hidden = allowed.length > 0;
    if (!allowed.includes(move)) closeMove();
  }
  $("st-transitions").addEventListener("click", ({ target }) => {
    const button = target.closest("[data-target]");
    if (!button) return;
    move = button.dataset.target;
    const merge = move === "merged";
    say("st-move-label", button.dataset.label || tr("Message to the submitter (optional)"));
    say("st-move-hint", button.dataset.hint || "");
    say("st-move-go", button.textContent);
    $("st-move-text").hidden = merge;
    $("st-move-number").hidden = !merge;
    $("st-move-label").htmlFor = merge ? "st-move-number" : "st-move-text";
    moveError();
    $("st-move").hidden = false;
    $(merge ? "st-move-number" : "st-move-text").focus();
  });
  const moveError = (r) => {
    const merge = move === "merged";
    fieldError($(merge ? "st-move-number" : "st-move-text"), errors(r)[merge ? "merge_into" : "text"], $("st-move-error"));
  };
  function closeMove() {
    move = null;
    $("st-move").hidden = true;
    $("st-move").reset();
  }
  $("st-move-cancel").addEventListener("click", closeMove);
  $("st-move").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("st-move-text").value.trim();
    const body = move === "merged" ? { status: move, merge_into: $("st-move-number").value.trim() } : { status: move, ...(text && { text }) };
    say("st-move-status", tr("Saving…"));
    const r = await api("POST", path("/transitions"), { body, headers: { "If-Match": ticket.version } });
    moveError(r);
    if (r.ok) {
      say("st-move-status", tr("Status changed to {status}.", { status: name(r.data.status) }));
      closeMove();
      adopt(r.data);
      return $("st-title").focus();
    }
    if (r.error?.code !== "stale_version") return say("st-move-status", tr("Not saved: ") + problem(r));
    const fresh = await api("GET", path());
    if (fresh.ok) adopt(fresh.data);
    say("st-move-status", tr("Not saved: someone else changed this ticket, which is now {status}. It has been reloaded: check it and try again.", { status: name(ticket.status) }));
  });

  // --- replies and notes
  const isPublic = () => $("st-reply").elements.public.value === "true";
  $("st-reply").addEventListener("change", () => say("st-reply-send", tr(isPublic() ? "Send reply" : "Add note")));
  async function loadCanned(code) {
    canned = (await api("GET", `/v1/staff/canned?category=${encodeURIComponent(code)}`)).data?.canned || [];
    $("st-canned").replaceChildren(h("option", { value: "" }, tr(canned.length ? "Choose one" : "None for this category")),
      ...canned.map((c) => h("option", { value: c.id }, c.translations?.[ticket.language]?.title || c.title)));
  }
  $("st-canned-insert").addEventListener("click", () => {
    const choice = canned.find((c) => c.id === $("st-canned").value);
    if (!choice) return;
    // What the API does with a canned_id: the ticket's language, its placeholders filled in.
    const names = category(ticket.category)?.names;
    const values = { number: ticket.number, department: ticket.department, category: names?.[ticket.language] || names?.en || ticket.category };
    const area = $("st-reply-text");
    const template = choice.translations?.[ticket.language]?.text || choice.text;
    const text = template.replace(/\{(\w+)\}/g, (slot, key) => values[key] ?? slot);
    area.value = area.value.trim() ? `${area.value.trimEnd()}\n\n${text}` : text;
    inserted = { id: choice.id, text: area.value };
    area.focus();
  });
  $("st-reply").addEventListener("submit", async (e) => {
    e.preventDefault();
    const area = $("st-reply-text");
    // Unchanged canned text goes by id: the API renders it from the stored template.
    const body = { public: isPublic(), ...(inserted?.text === area.value ? { canned_id: inserted.id } : { text: area.value }) };
    say("st-reply-status", tr("Sending…"));
    const r = await api("POST", path("/replies"), { body });
    fieldError(area, errors(r).text || errors(r).canned_id);
    if (!r.ok) return say("st-reply-status", tr("Not sent: ") + problem(r));
    area.value = "";
    inserted = null;
    say("st-reply-status", tr(body.public ? "Reply sent. The submitter can read it." : "Internal note added."));
    adopt(r.data);
  });

  // --- contact details: the API audits every read
  function contact(pairs) {
    $("st-contact").replaceChildren(...pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    $("st-contact").hidden = !pairs.length;
  }
  $("st-contact-reveal").addEventListener("click", async () => {
    const r = await api("GET", path("/contact"));
    if (!r.ok) return contact([[tr("Contact details"), problem(r)]]);
    const c = r.data.contact || {};
    contact([[tr("Name"), c.name || "—"], [tr("Email"), c.email || "—"], [tr("Phone"), c.phone || "—"], [tr("May be contacted"), tr(r.data.consent_to_contact ? "Yes" : "No")]]);
    const fresh = await api("GET", path()); // the timeline now shows the audit entry
    if (fresh.ok) adopt(fresh.data);
  });

  $("st-open").addEventListener("submit", (e) => {
    e.preventDefault();
    open($("st-number").value.trim().toUpperCase(), true);
  });
  const onHash = () => {
    if (!root.isConnected) return removeEventListener("hashchange", onHash);
    if (hashNumber() && hashNumber() !== ticket?.number) open(hashNumber(), true);
  };
  addEventListener("hashchange", onHash);
  return (member) => member && open(hashNumber() || ticket?.number, false);
}, "staff-ticket");
