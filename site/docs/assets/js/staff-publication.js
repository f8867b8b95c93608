// Publication approval: the submitter's consent, the redaction preview (the original beside what
// the public would read, and what was found), approve and withdraw for supervisors and admins.
// POST /v1/staff/tickets/{number}/publication {action: preview|approve|withdraw, summary?, resolution?, photos?}
import { api, apiBase, fieldError, h, hashNumber, href, name, problem, timeEl, tr, widget, words } from "./staff-core.js";

// Functions: the page's texts are known once its widget has started (tr).
const PARTS = () => [["summary", tr("Public summary")], ["resolution", tr("What was done")]];
const STATES = () => ({ none: tr("Not approved"), approved: tr("Approved"), withdrawn: tr("Withdrawn") });
const ACTIONS = () => ({ preview: tr("Preview"), approve: tr("Approval"), withdraw: tr("Withdrawal") });
const KINDS = () => ({ email: tr("Email"), phone: tr("Phone"), id_number: tr("ID number"), contact: tr("Contact details") });
const DONE = () => ({
  preview: tr("Preview ready: compare the original with what the public would read."),
  approve: tr("Approved: the redacted texts go on the public board at the next publication."),
  withdraw: tr("Withdrawn: the ticket leaves the public board at the next publication."),
});

widget("staff-publication", (root, $, say) => {
  let ticket = null;
  let role = "";
  let request = 0;

  function renderState(pub = {}) {
    const facts = [
      [tr("Status"), name(ticket.status)],
      [tr("Submitter's consent"), tr(ticket.consent_to_publish ? "Given: a summary may be published" : "Not given: it cannot be published")],
      [tr("Publication"), `${STATES()[pub.state] || words(pub.state || "none")}${pub.on_board ? tr(" (on the board)") : ""}`],
    ];
    if (pub.approved_at) facts.push([tr("Approved"), timeEl(pub.approved_at)]);
    if (pub.withdrawn_at) facts.push([tr("Withdrawn"), timeEl(pub.withdrawn_at)]);
    $("sp-facts").replaceChildren(...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  function renderPreview(data) {
    const blockers = data.blockers || [];
    $("sp-preview-out").replaceChildren(
      h("div", { class: "cl-note", hidden: !blockers.length }, h("p", {}, tr("It cannot be approved yet:")),
        h("ul", {}, blockers.map((b) => h("li", {}, b)))),
      ...PARTS().map(([part, label]) => {
        const item = data[part] || {};
        const found = item.findings || [];
        return h("section", { class: "cl-preview" }, h("h3", {}, label),
          h("div", { class: "cl-compare" },
            h("div", {}, h("h4", {}, tr("Original (staff only)")), h("p", { class: "cl-pre" }, item.original || "—")),
            h("div", {}, h("h4", {}, tr("As the public will read it")), h("p", { class: "cl-pre" }, item.redacted || "—"))),
          found.length
            ? [h("p", {}, tr("Found and removed ({n}):", { n: found.length })), h("ul", {}, found.map((f) => h("li", {}, tr("{kind}: {text}", { kind: KINDS()[f.kind] || words(f.kind), text: f.text }))))]
            : h("p", {}, tr("Nothing to remove was found.")));
      }));
  }

  async function open(number, focus) {
    const mine = ++request;
    say("sp-alert");
    $("sp-ticket").hidden = true;
    $("sp-preview-out").replaceChildren();
    say("sp-result-status", "");
    if (!number) return;
    say("sp-status", tr("Opening {number}…", { number }));
    const result = await api("GET", `/v1/staff/tickets/${encodeURIComponent(number)}`);
    if (mine !== request || !root.isConnected) return;
    say("sp-status", "");
    if (!result.ok) return say("sp-alert", problem(result));
    ticket = result.data;
    $("sp-number").value = ticket.number;
    if (hashNumber() !== ticket.number) history.replaceState(history.state, "", `#${ticket.number}`);
    $("sp-title").replaceChildren(h("a", { href: href("ticket", ticket.number) }, ticket.number), `: ${ticket.subject}`);
    $("sp-summary").value = ticket.public_summary || "";
    $("sp-resolution").value = ticket.resolution || "";
    renderState(ticket.publication);
    // The ticket's photos (cleaned copies) as checkboxes; the approved ones ticked.
    const pics = ticket.attachments || [];
    const chosen = ticket.publication?.photos || [];
    const abs = (u) => (u[0] === "/" ? apiBase() + u : u);
    $("sp-photos").hidden = !pics.length;
    $("sp-photos-list").replaceChildren(...pics.map((a, i) => h("label", { class: "cl-check" },
      h("input", { type: "checkbox", value: a.id, checked: chosen.includes(a.id) }), ` ${tr("Photo {n}", { n: i + 1 })} `,
      h("img", { src: abs(a.thumbnail_url), alt: tr("Photo {n}", { n: i + 1 }), width: 120 }))));
    $("sp-ticket").hidden = false;
    if (focus) $("sp-title").focus();
  }

  async function act(action) {
    const body = { action };
    if (action !== "withdraw") for (const [part] of PARTS()) body[part] = $(`sp-${part}`).value.trim();
    if (action === "approve" && !$("sp-photos").hidden) body.photos = [...root.querySelectorAll("#sp-photos-list input:checked")].map((c) => c.value);
    say("sp-result-status", tr(action === "preview" ? "Preparing the preview…" : "Saving…"));
    // Approve and withdraw act on the version on show: a ticket changed meanwhile is a 409.
    const headers = action === "preview" ? {} : { "If-Match": String(ticket.version) };
    const result = await api("POST", `/v1/staff/tickets/${encodeURIComponent(ticket.number)}/publication`, { body, headers });
    for (const [part] of PARTS()) fieldError($(`sp-${part}`), result.error?.fields?.[part]);
    if (!result.ok) return say("sp-result-status", tr("{action} failed: {problem}", { action: ACTIONS()[action], problem: problem(result) }));
    ticket = { ...ticket, version: result.data.version, publication: result.data.publication };
    renderState(result.data.publication);
    renderPreview(result.data);
    say("sp-result-status", DONE()[action]);
  }

  $("sp-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act("preview");
  });
  for (const action of ["approve", "withdraw"]) {
    $(`sp-${action}`).addEventListener("click", () => {
      // Agents see the buttons and why they cannot use them; the API checks the role too.
      if (role === "agent") return say("sp-result-status", $("sp-role-note").textContent);
      act(action);
    });
  }
  $("sp-open").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = $("sp-number").value.trim().toUpperCase();
    if (number) open(number, true);
  });
  return (member) => {
    role = member?.role || "";
    $("sp-role-note").hidden = role !== "agent";
    for (const id of ["sp-approve", "sp-withdraw"]) {
      if (role === "agent") $(id).setAttribute("aria-disabled", "true");
      else $(id).removeAttribute("aria-disabled");
    }
    if (member) open(hashNumber() || ticket?.number, false);
  };
}, "staff-publication");
